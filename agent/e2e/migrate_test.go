package e2e

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/testenv"
)

// migPlanMaxProfiles is the profile limit of the license the migration test
// creates; it differs from the demo plan's so the agent's answer can only
// come from this license.
const migPlanMaxProfiles = 7

// TestMigrateToNewComputer moves every signature profile from computer A to
// computer B (another machine id, in its own mount namespace) with the real
// server, two real agents and the real command line: export, deactivate,
// activate the new computer, import (wrong passphrase, damaged bundles and a
// second import refused or skipped without writing anything), then checks
// that certificates, keys, names, owners and the default survived and that
// the server learns B's inventory.
func TestMigrateToNewComputer(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.LookPath(t, "unshare")
	began := time.Now()
	mark := func(what string) { t.Logf("at %5.1fs: %s", time.Since(began).Seconds(), what) }
	w := newWorld(t)
	mark("binaries built, server started")

	// A one-seat license: B can only be activated once A has given its seat back.
	lic := migCreateLicense(t, w)
	const passphrase = "correct horse battery staple"

	// The CA-issued PKCS#12 (an RSA key: slow to generate under -race) is
	// made while computer A starts.
	type p12Result struct {
		path string
		ca   *x509.Certificate
		err  error
	}
	p12c := make(chan p12Result, 1)
	p12Dir := t.TempDir()
	go func() {
		path, ca, err := migWriteCAIssuedP12(p12Dir, "p12 password")
		p12c <- p12Result{path, ca, err}
	}()

	stateA := filepath.Join(t.TempDir(), "state-a")
	a := w.startAgent(stateA)
	profA := filepath.Join(stateA, "profiles")

	// --- Computer A: activate, three created profiles, one CA-issued import, a non-first default.
	if _, err := migMust(t, a, "", "activate", "--license-key", lic.Key); err != nil {
		t.Fatal(err)
	}
	stA := migStatus(t, a)
	if !stA.Entitlement.Entitled || stA.Entitlement.LicenseID != lic.ID || stA.Entitlement.DeviceID == "" {
		t.Fatalf("A after activation: %+v", stA.Entitlement)
	}
	deviceA := stA.Entitlement.DeviceID
	if n := migSeatsUsed(t, w, lic.ID); n != 1 {
		t.Fatalf("%d seats used after A's activation, want 1", n)
	}
	p12 := <-p12c
	if p12.err != nil {
		t.Fatal(p12.err)
	}
	ca := p12.ca
	// The four commands run at once, as a person with several windows might.
	jobs := []func() error{func() error {
		out, err := migMust(t, a, "p12 password\n", "profiles", "import", p12.path, "--name", "Notary", "--passphrase-stdin")
		if err == nil && !strings.Contains(out, `Imported "Notary"`) {
			err = fmt.Errorf("import of the PKCS#12: %q", out)
		}
		return err
	}}
	for _, p := range []struct{ owner, name, email string }{
		{"Alice Martin", "Work", "alice@example.test"},
		{"Chloé Dupont-Lefèvre", "Legal", ""},
		{"Bob Stone", "Personal", "bob@example.test"},
	} {
		args := []string{"profiles", "create", "--owner", p.owner, "--name", p.name}
		if p.email != "" {
			args = append(args, "--email", p.email)
		}
		jobs = append(jobs, func() error { _, err := migMust(t, a, "", args...); return err })
	}
	migParallel(t, jobs...)
	listA := migList(t, a)
	if len(listA) != 4 {
		t.Fatalf("A has %d profiles, want 4: %+v", len(listA), listA)
	}
	byName := map[string]agentapi.ProfileInfo{}
	for _, p := range listA {
		byName[p.Name] = p
	}
	firstDefault := migDefault(listA)
	if _, ok := byName[firstDefault.Name]; !ok {
		t.Fatalf("no single default after the first profiles: %+v", listA)
	}
	notary := byName["Notary"]
	if notary.SelfSigned || notary.Status != "valid" || !notary.HasKey || notary.Owner != "Dana Notary" {
		t.Fatalf("imported CA-issued profile: %+v", notary)
	}
	for _, n := range []string{"Work", "Legal", "Personal"} {
		if p := byName[n]; !p.SelfSigned || p.Status != "valid" || !p.HasKey {
			t.Fatalf("created profile %s: %+v", n, p)
		}
	}
	// A default chosen by the person: not the one the agent picked (the
	// first profile written).
	wantDefault := byName["Personal"]
	if wantDefault.ID == firstDefault.ID {
		wantDefault = byName["Legal"]
	}
	if _, err := migMust(t, a, "", "profiles", "default", wantDefault.ID); err != nil {
		t.Fatal(err)
	}
	listA = migList(t, a)
	if d := migDefault(listA); d.ID != wantDefault.ID {
		t.Fatalf("A's default is %q, want %q", d.Name, wantDefault.Name)
	}
	filesA := map[string]migProfileFiles{}
	for _, p := range listA {
		filesA[p.ID] = migReadProfile(t, profA, p.ID)
	}
	// The stored leaf is the one the test CA issued, followed by its chain:
	// the PKCS#12 import keeps the file's CA certificate.
	if leaf, err := x509.ParseCertificate(filesA[notary.ID].certs[0]); err != nil {
		t.Fatal(err)
	} else if err := leaf.CheckSignatureFrom(ca); err != nil {
		t.Fatalf("the imported profile's certificate is not the CA-issued one: %v", err)
	}
	migHasCAChain := func(t *testing.T, where string, f migProfileFiles) {
		t.Helper()
		if n := len(f.certs); n != 2 || !bytes.Equal(f.certs[1], ca.Raw) {
			t.Fatalf("%s stored %d certificate(s) for the CA-issued PKCS#12 import, want the leaf then the test CA", where, n)
		}
	}
	migHasCAChain(t, "A", filesA[notary.ID]) // and B, once it has imported the bundle (below)

	mark("A has 4 profiles")
	// --- A: export everything, then give the seat back. While the export
	// runs (scrypt), computer B starts and is refused: A holds the only seat.
	bundlePath := filepath.Join(t.TempDir(), "move.entitle")
	type cliResult struct {
		out, stderr string
		code        int
	}
	exported, exportDone := make(chan cliResult, 1), make(chan struct{})
	go func() {
		defer close(exportDone)
		out, stderr, code := migCLI(t, a, passphrase+"\n", "migrate", "export", "--out", bundlePath, "--passphrase-stdin")
		exported <- cliResult{out, stderr, code}
	}()
	t.Cleanup(func() { <-exportDone }) // it logs to t: never after the test ends
	stateB := filepath.Join(t.TempDir(), "state-b")
	b := migStartOtherComputer(t, w, stateB, "fedcba9876543210fedcba9876543210")
	profB := filepath.Join(stateB, "profiles")
	if _, stderr, code := migCLI(t, b, "", "activate", "--license-key", lic.Key); code == 0 {
		t.Fatal("B was activated while A held the license's only seat")
	} else {
		t.Logf("B refused while A holds the seat: exit %d: %s", code, strings.TrimSpace(stderr))
	}
	if st := migStatus(t, b); st.Entitlement.Entitled || st.Activated {
		t.Fatalf("B after a refused activation: %+v", st.Entitlement)
	}
	var ex cliResult
	select {
	case ex = <-exported:
	case <-time.After(90 * time.Second):
		t.Fatal("migrate export did not finish") // migCLI's own timeout is 60 s
	}
	if ex.code != 0 {
		t.Fatalf("migrate export: exit %d: %s", ex.code, ex.stderr)
	}
	if !strings.Contains(ex.out, "stays activated") {
		t.Fatalf("export without --deactivate on a non-terminal must not deactivate: %q", ex.out)
	}
	bundleData, err := os.ReadFile(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(bundlePath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("bundle file mode: %v %v", fi.Mode(), err)
	}
	if !bytes.HasPrefix(bundleData, []byte("age-encryption.org/")) || bytes.Contains(bundleData, []byte("PRIVATE KEY")) ||
		bytes.Contains(bundleData, []byte("Alice Martin")) {
		t.Fatal("the bundle is not an encrypted age file")
	}
	mark("A exported, B refused")

	if _, err := migMust(t, a, "", "deactivate", "--yes"); err != nil {
		t.Fatal(err)
	}
	if n := migSeatsUsed(t, w, lic.ID); n != 0 {
		t.Fatalf("%d seats used after A's deactivation, want 0", n)
	}
	if st := migStatus(t, a); st.Entitlement.Entitled || st.Activated || st.Entitlement.State != agentapi.StateInactive {
		t.Fatalf("A after deactivation: %+v", st.Entitlement)
	}
	if e := migEntitlement(t, a); e.Entitled || e.State != agentapi.StateInactive {
		t.Fatalf("A's entitlement answer after deactivation: %+v", e)
	}

	mark("A deactivated")
	// --- Computer B: activate, then import.
	if _, err := migMust(t, b, "", "activate", "--license-key", lic.Key); err != nil {
		t.Fatal(err)
	}
	stB := migStatus(t, b)
	if !stB.Entitlement.Entitled || stB.Entitlement.DeviceID == "" || stB.Entitlement.DeviceID == deviceA {
		t.Fatalf("B after activation (A was %s): %+v", deviceA, stB.Entitlement)
	}
	deviceB := stB.Entitlement.DeviceID
	if n := migSeatsUsed(t, w, lic.ID); n != 1 {
		t.Fatalf("%d seats used after B's activation, want 1", n)
	}
	// B's inventory on the server before the import: no profile.
	if _, err := migMust(t, b, "", "check"); err != nil {
		t.Fatal(err)
	}
	session := migSession(t, w)
	if d := migDevice(t, w, session, deviceB); d.Profiles == nil || d.Profiles.Total != 0 {
		t.Fatalf("B's inventory before the import: %+v", d.Profiles)
	}

	mark("B activated, inventory 0 on the server")
	// Damaged copies of the bundle: bytes flipped in the middle, and cut in
	// half (a copy that did not finish).
	mid := len(bundleData) / 2
	flipped := slices.Clone(bundleData)
	for i := mid; i < mid+8; i++ {
		flipped[i] ^= 0xff
	}
	damagedDir := t.TempDir()
	flippedPath, truncatedPath := filepath.Join(damagedDir, "flipped.entitle"), filepath.Join(damagedDir, "truncated.entitle")
	if err := os.WriteFile(flippedPath, flipped, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncatedPath, bundleData[:mid], 0o600); err != nil {
		t.Fatal(err)
	}
	// Every import costs one scrypt (2^18) in an agent built with -race,
	// several seconds, so the refused ones run two at a time and B's
	// profile folder is compared before and after each pair.
	type refusal struct{ name, path, pass, wantMsg, onClash string }

	// On the empty computer: a wrong passphrase, a truncated bundle. Clear
	// error, non-zero exit, nothing written.
	migNothingWritten(t, profB, "refused on the empty computer", func(t *testing.T) {
		for _, tc := range []refusal{
			{"wrong passphrase", bundlePath, passphrase + "!", "wrong passphrase", "fail"},
			{"truncated to half", truncatedPath, passphrase, "damaged", "fail"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				migRefusedImport(t, b, tc.path, tc.pass, tc.wantMsg, "--on-clash", tc.onClash)
			})
		}
	})
	if n := len(migList(t, b)); n != 0 {
		t.Fatalf("B lists %d profiles after refused imports", n)
	}
	mark("wrong passphrase and truncated bundle refused")

	out, err := migMust(t, b, passphrase+"\n", "migrate", "import", bundlePath, "--passphrase-stdin")
	if err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(out, "Imported "); c != 4 {
		t.Fatalf("import output names %d profiles, want 4: %q", c, out)
	}

	mark("B imported")
	migHasCAChain(t, "B", migReadProfile(t, profB, notary.ID))
	t.Run("same profiles, certificates, keys and default", func(t *testing.T) {
		listB := migList(t, b)
		if len(listB) != len(listA) {
			t.Fatalf("B has %d profiles, A had %d", len(listB), len(listA))
		}
		if d := migDefault(listB); d.ID != wantDefault.ID || d.Name != wantDefault.Name {
			t.Fatalf("B's default is %q (%s), want %q (%s)", d.Name, d.ID, wantDefault.Name, wantDefault.ID)
		}
		if d, err := os.ReadFile(filepath.Join(profB, "default")); err != nil || strings.TrimSpace(string(d)) != wantDefault.ID {
			t.Fatalf("B's default file: %q %v", d, err)
		}
		infoB := map[string]agentapi.ProfileInfo{}
		for _, p := range listB {
			infoB[p.ID] = p
		}
		digest := sha256.Sum256([]byte("signed on the new computer"))
		for _, pa := range listA {
			t.Run(pa.Name, func(t *testing.T) {
				pb, ok := infoB[pa.ID]
				if !ok {
					t.Fatalf("profile %s (%s) missing on B", pa.Name, pa.ID)
				}
				if pb.Name != pa.Name || pb.Owner != pa.Owner || pb.SelfSigned != pa.SelfSigned || pb.Serial != pa.Serial ||
					pb.Status != "valid" || !pb.HasKey || !pb.Licensed || !pb.Created.Equal(pa.Created) {
					t.Fatalf("profile on B %+v\nwas on A %+v", pb, pa)
				}
				fa, fb := filesA[pa.ID], migReadProfile(t, profB, pa.ID)
				if len(fa.certs) != len(fb.certs) {
					t.Fatalf("%d certificates on B, %d on A", len(fb.certs), len(fa.certs))
				}
				for i := range fa.certs {
					if !bytes.Equal(fa.certs[i], fb.certs[i]) {
						t.Fatalf("certificate %d differs (DER)", i)
					}
				}
				if fb.keyMode != 0o600 || fb.dirMode != 0o700 {
					t.Fatalf("on B, key.pem has mode %v (want 0600), the profile folder %v (want 0700)", fb.keyMode, fb.dirMode)
				}
				certA, err := x509.ParseCertificate(fa.certs[0])
				if err != nil {
					t.Fatal(err)
				}
				sig, err := fb.key.Sign(rand.Reader, digest[:], crypto.SHA256)
				if err != nil {
					t.Fatalf("sign with B's key: %v", err)
				}
				if err := migVerify(certA.PublicKey, digest[:], sig); err != nil {
					t.Fatalf("B's signature does not verify with A's certificate: %v", err)
				}
				other := sha256.Sum256([]byte("something else"))
				if migVerify(certA.PublicKey, other[:], sig) == nil {
					t.Fatal("the signature verifies for another digest")
				}
				for _, po := range listA {
					if po.ID == pa.ID {
						continue
					}
					c, err := x509.ParseCertificate(filesA[po.ID].certs[0])
					if err != nil {
						t.Fatal(err)
					}
					if migVerify(c.PublicKey, digest[:], sig) == nil {
						t.Fatalf("the signature verifies with %s's certificate too", po.Name)
					}
				}
			})
		}
	})

	mark("B's profiles compared with A's")
	// Once the profiles are there: the same bundle again adds nothing, and
	// a damaged one, even with --on-clash replace, writes nothing.
	migNothingWritten(t, profB, "again and damaged", func(t *testing.T) {
		t.Run("same bundle again", func(t *testing.T) {
			t.Parallel()
			out, stderr, code := migCLI(t, b, passphrase+"\n", "migrate", "import", bundlePath, "--passphrase-stdin")
			if code != 0 || strings.Contains(out, "Imported ") || !strings.Contains(out, "4 profiles already present") {
				t.Fatalf("second import: exit %d: %q %q", code, out, stderr)
			}
		})
		t.Run("bytes flipped in the middle", func(t *testing.T) {
			t.Parallel()
			migRefusedImport(t, b, flippedPath, passphrase, "damaged", "--on-clash", "replace")
		})
	})
	if n := len(migList(t, b)); n != 4 {
		t.Fatalf("B has %d profiles after importing again and a damaged bundle, want 4", n)
	}
	mark("imported again, damaged bundles refused")
	t.Run("entitlement answer and server inventory", func(t *testing.T) {
		var e agentapi.Entitlement
		testenv.WaitFor(t, 10*time.Second, "B's entitlement answer to count 4 profiles", func() bool {
			e = migEntitlement(t, b)
			return e.ProfileCount == 4
		})
		if !e.Entitled || e.MaxProfiles != migPlanMaxProfiles || e.LicenseID != lic.ID || e.DeviceID != deviceB {
			t.Fatalf("B's entitlement: %+v", e)
		}
		mark("B's entitlement answer counts 4 profiles")
		if _, err := migMust(t, b, "", "check"); err != nil {
			t.Fatal(err)
		}
		mark("B checked in")
		d := migDevice(t, w, session, deviceB)
		want := protocol.ProfileSummary{Total: 4, Valid: 4, Default: wantDefault.Name}
		if d.Profiles == nil {
			t.Fatal("the server has no profile inventory for B")
		}
		got := *d.Profiles
		got.EarliestCertUntil = 0
		if !d.Active || got != want || d.Profiles.EarliestCertUntil == 0 {
			t.Fatalf("B on the server: active=%v profiles=%+v, want %+v", d.Active, d.Profiles, want)
		}
		if da := migDevice(t, w, session, deviceA); da.Active {
			t.Fatalf("A is still active on the server: %+v", da)
		}
	})
	mark("done")
}
