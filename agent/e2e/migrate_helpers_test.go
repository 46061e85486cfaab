package e2e

// Helpers of TestMigrateToNewComputer: the CLI runner, profile-folder
// snapshots, test certificates and server queries.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
)

// migStartOtherComputer runs an agent in its own mount namespace with
// machineID bind-mounted over /etc/machine-id (and /var/lib/dbus/machine-id).
func migStartOtherComputer(t *testing.T, w *world, stateDir, machineID string) *agent {
	t.Helper()
	idFile := filepath.Join(t.TempDir(), "machine-id")
	if err := os.WriteFile(idFile, []byte(machineID+"\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	script := `mount --make-rprivate / && mount --bind "$0" /etc/machine-id && ` +
		`{ [ ! -e /var/lib/dbus/machine-id ] || mount --bind "$0" /var/lib/dbus/machine-id; } && exec "$@"`
	return w.startAgent(stateDir, "unshare", "-m", "sh", "-c", script, idFile)
}

type migLicense struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

func migCreateLicense(t *testing.T, w *world) migLicense {
	t.Helper()
	out, err := migRun(t, "", w.serverBin, "license", "create", "--owner", w.email, "--plan", "Move test",
		"--features", "sign", "--max-profiles", fmt.Sprint(migPlanMaxProfiles), "--seats", "1", "--days", "30",
		"--json", "--db", w.db)
	if err != nil {
		t.Fatal(err)
	}
	var l migLicense
	if err := json.Unmarshal([]byte(out), &l); err != nil || l.ID == "" || l.Key == "" {
		t.Fatalf("license create output %q: %v", out, err)
	}
	return l
}

func migSeatsUsed(t *testing.T, w *world, licenseID string) int {
	t.Helper()
	out, err := migRun(t, "", w.serverBin, "license", "list", "--json", "--db", w.db)
	if err != nil {
		t.Fatal(err)
	}
	var lics []struct {
		ID        string `json:"id"`
		SeatsUsed int    `json:"seats_used"`
	}
	if err := json.Unmarshal([]byte(out), &lics); err != nil {
		t.Fatalf("license list %q: %v", out, err)
	}
	for _, l := range lics {
		if l.ID == licenseID {
			return l.SeatsUsed
		}
	}
	t.Fatalf("license %s not in %q", licenseID, out)
	return 0
}

func migList(t *testing.T, a *agent) []agentapi.ProfileInfo {
	t.Helper()
	out, err := migMust(t, a, "", "profiles", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var list []agentapi.ProfileInfo
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("profiles list %q: %v", out, err)
	}
	return list
}

func migDefault(list []agentapi.ProfileInfo) agentapi.ProfileInfo {
	var d agentapi.ProfileInfo
	n := 0
	for _, p := range list {
		if p.Default {
			d = p
			n++
		}
	}
	if n != 1 {
		return agentapi.ProfileInfo{Name: fmt.Sprintf("<%d defaults>", n)}
	}
	return d
}

var migHTTP = &http.Client{Timeout: 10 * time.Second}

func migGetJSON(t *testing.T, req *http.Request, wantStatus int, out any) {
	t.Helper()
	resp, err := migHTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("%s %s: %q: %v", req.Method, req.URL, body, err)
	}
}

// migEntitlement asks the agent the signing apps' question, GET /v1/entitlement.
func migEntitlement(t *testing.T, a *agent) agentapi.Entitlement {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+a.addr+agentapi.PathEntitlement, nil)
	if err != nil {
		t.Fatal(err)
	}
	var e agentapi.Entitlement
	migGetJSON(t, req, http.StatusOK, &e)
	return e
}

// migSession signs in to the account API (POST /v1/sessions) as the demo
// account, which owns the test's license.
func migSession(t *testing.T, w *world) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": w.email, "password": w.password})
	req, err := http.NewRequest(http.MethodPost, w.serverURL+"/v1/sessions", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	var s struct {
		Token string `json:"token"`
	}
	migGetJSON(t, req, http.StatusCreated, &s)
	if s.Token == "" {
		t.Fatal("no session token")
	}
	return s.Token
}

type migDeviceJSON struct {
	ID       string                   `json:"id"`
	Active   bool                     `json:"active"`
	Profiles *protocol.ProfileSummary `json:"profiles"`
}

// migDevice returns one computer of GET /v1/account/devices.
func migDevice(t *testing.T, w *world, session, id string) migDeviceJSON {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, w.serverURL+"/v1/account/devices?limit=500", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+session)
	var page struct {
		Items []migDeviceJSON `json:"items"`
	}
	migGetJSON(t, req, http.StatusOK, &page)
	ds := page.Items
	for _, d := range ds {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("device %s not in the account's devices %+v", id, ds)
	return migDeviceJSON{}
}

// migWriteCAIssuedP12 writes into dir a PKCS#12 holding an RSA signing
// certificate issued by a test CA (with the CA in the chain) and returns its
// path and the CA certificate.
func migWriteCAIssuedP12(dir, password string) (string, *x509.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return "", nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1001), Subject: pkix.Name{CommonName: "Migration Test CA", Organization: []string{"Entitle tests"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return "", nil, fmt.Errorf("CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return "", nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(424242), Subject: pkix.Name{CommonName: "Dana Notary"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(2, 0, 0),
		KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		EmailAddresses: []string{"dana@example.test"},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return "", nil, fmt.Errorf("leaf certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return "", nil, err
	}
	data, err := pkcs12.Modern.Encode(key, leaf, []*x509.Certificate{ca}, password)
	if err != nil {
		return "", nil, fmt.Errorf("encode PKCS#12: %w", err)
	}
	path := filepath.Join(dir, "notary.p12")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", nil, err
	}
	return path, ca, nil
}

// migParallel runs the jobs at once and fails the test with every error.
func migParallel(t *testing.T, jobs ...func() error) {
	t.Helper()
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = job() }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// migProfileFiles is one profile as stored on disk (docs/profiles.md):
// <folder>/<id>/ (mode 0700) holding certificate.pem (leaf first, then its
// chain) and key.pem (PKCS#8, mode 0600).
type migProfileFiles struct {
	certs   [][]byte // DER
	key     crypto.Signer
	keyMode fs.FileMode
	dirMode fs.FileMode
}

func migReadProfile(t *testing.T, folder, id string) migProfileFiles {
	t.Helper()
	dir := filepath.Join(folder, id)
	meta, err := os.ReadFile(filepath.Join(dir, "profile.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(meta, &m); err != nil || m.ID != id {
		t.Fatalf("%s/profile.json: id %q, %v", dir, m.ID, err)
	}
	var p migProfileFiles
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	p.dirMode = di.Mode().Perm()
	certPEM, err := os.ReadFile(filepath.Join(dir, "certificate.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for rest := certPEM; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			p.certs = append(p.certs, blk.Bytes)
		}
	}
	if len(p.certs) == 0 {
		t.Fatalf("%s/certificate.pem holds no certificate", dir)
	}
	keyPath := filepath.Join(dir, "key.pem")
	fi, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	p.keyMode = fi.Mode().Perm()
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(keyPEM)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		t.Fatalf("%s is not a PEM PRIVATE KEY", keyPath)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", keyPath, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		t.Fatalf("%s: %T is not a signer", keyPath, k)
	}
	p.key = s
	return p
}

func migVerify(pub any, digest, sig []byte) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return errors.New("ECDSA signature does not verify")
		}
		return nil
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, digest, sig)
	default:
		return fmt.Errorf("unexpected public key type %T", pub)
	}
}

// migSnapshot records every entry under dir (hidden ones included): mode and,
// for files, a hash of the contents. A missing dir is an empty snapshot.
func migSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == dir {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		v := info.Mode().String()
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			v += " " + hex.EncodeToString(h[:8])
		}
		snap[rel] = v
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot %s: %v", dir, err)
	}
	return snap
}

func migDiff(before, after map[string]string) string {
	var d []string
	for k, v := range before {
		if w, ok := after[k]; !ok {
			d = append(d, "- "+k)
		} else if w != v {
			d = append(d, "~ "+k+": "+v+" -> "+w)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			d = append(d, "+ "+k)
		}
	}
	slices.Sort(d)
	return strings.Join(d, "\n")
}

// migNothingWritten runs the subtests of body (which may be parallel) as
// the subtest name and fails when they changed anything under dir.
func migNothingWritten(t *testing.T, dir, name string, body func(t *testing.T)) {
	t.Helper()
	before := migSnapshot(t, dir)
	t.Run(name, body)
	if diff := migDiff(before, migSnapshot(t, dir)); diff != "" {
		t.Fatalf("%s: %s changed:\n%s", name, dir, diff)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// migRefusedImport runs `entitle migrate import` and expects a refusal: a
// non-zero exit and an error saying wantMsg, without the passphrase.
func migRefusedImport(t *testing.T, a *agent, path, pass, wantMsg string, extra ...string) {
	t.Helper()
	t0 := time.Now()
	args := append([]string{"migrate", "import", path, "--passphrase-stdin"}, extra...)
	out, stderr, code := migCLI(t, a, pass+"\n", args...)
	t.Logf("exit code %d after %s: %s", code, time.Since(t0).Round(time.Millisecond), strings.TrimSpace(stderr))
	if code == 0 {
		t.Fatalf("import succeeded: %q", out)
	}
	if !strings.Contains(stderr, wantMsg) {
		t.Fatalf("the error does not say %q: %q", wantMsg, stderr)
	}
	if strings.Contains(stderr+out, pass) {
		t.Fatal("the output repeats the passphrase")
	}
}

// migExec runs a command and returns stdout, stderr and the exit code (-1:
// it did not exit normally, e.g. killed by the 60 s timeout).
func migExec(t *testing.T, stdin string, argv ...string) (stdout, stderr string, code int) {
	t.Helper()
	stdout, stderr, err := execute(60*time.Second, stdin, argv...)
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		code = ee.ExitCode()
	default:
		t.Logf("%s: %v", strings.Join(argv, " "), err)
		code = -1
	}
	return stdout, stderr, code
}

// migRun runs a command and returns its stdout, or an error with its exit
// code and stderr.
func migRun(t *testing.T, stdin string, argv ...string) (string, error) {
	t.Helper()
	out, stderr, code := migExec(t, stdin, argv...)
	if code != 0 {
		return out, fmt.Errorf("%s: exit %d: %s%s", strings.Join(argv[1:], " "), code, out, stderr)
	}
	return out, nil
}

// migCLI runs an entitle command against agent a (like agent.cli).
func migCLI(t *testing.T, a *agent, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	full := append(append(append([]string{a.w.agentBin}, args...), "--listen", a.addr), a.w.agentFlags(a.stateDir)...)
	return migExec(t, stdin, full...)
}

// migMust runs an entitle command against agent a and returns its stdout,
// or an error when it fails. Safe to call from any goroutine.
func migMust(t *testing.T, a *agent, stdin string, args ...string) (string, error) {
	t.Helper()
	full := append(append(append([]string{a.w.agentBin}, args...), "--listen", a.addr), a.w.agentFlags(a.stateDir)...)
	return migRun(t, stdin, full...)
}

func migStatus(t *testing.T, a *agent) agentapi.Status {
	t.Helper()
	out, err := migMust(t, a, "", "status", "--json")
	var st agentapi.Status
	if jerr := json.Unmarshal([]byte(out), &st); jerr != nil {
		t.Fatalf("status: %v %v: %q", err, jerr, out)
	}
	return st
}
