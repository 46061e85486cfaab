package profilescli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"

	"github.com/entitle/entitle/pkg/i18n"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/agent/profiles"
	"github.com/entitle/entitle/agent/profiles/certcheck"
	"github.com/entitle/entitle/pkg/agentapi"
)

// Issue 13 item 20: a profile is named by its id, a unique id prefix or its
// exact name; confirmations show the name; "n" cancels with exit 0.
func TestProfileArgumentAndConfirmation(t *testing.T) {
	a := startAgent(t)
	for _, n := range []string{"Work", "Home"} {
		if _, err := run(t, a, "", "profiles", "create", "--owner", "Jeanne", "--name", n); err != nil {
			t.Fatal(err)
		}
	}
	byName := map[string]agentapi.ProfileInfo{}
	for _, p := range a.m.List(0) {
		byName[p.Name] = p
	}
	work := byName["Work"]
	tests := []struct {
		arg, want, errText string
	}{
		{work.ID, "Work", ""},
		{work.ID[:8], "Work", ""},
		{"work", "Work", ""},
		{"  Home ", "Home", ""},
		{"nope", "", "no profile has the id, id prefix or name"},
	}
	for _, tc := range tests {
		out, err := run(t, a, "", "profiles", "show", tc.arg)
		switch {
		case tc.errText != "":
			if err == nil || !strings.Contains(err.Error(), tc.errText) {
				t.Errorf("show %q: %v, want an error containing %q", tc.arg, err, tc.errText)
			}
		case err != nil || !strings.Contains(out, "Profile:  "+tc.want) && !strings.Contains(out, tc.want):
			t.Errorf("show %q: %v %s", tc.arg, err, out)
		}
	}
	if _, err := run(t, a, "", "profiles", "default", "home"); err != nil || !byIDDefault(a, byName["Home"].ID) {
		t.Errorf("default by name: %v", err)
	}

	out, err := runTTY(t, a, true, "n\n", "profiles", "delete", work.ID[:6])
	if err != nil || !strings.Contains(out, `Delete profile "Work" (`+work.ID+`)`) || !strings.Contains(out, "Cancelled.") {
		t.Fatalf("delete answered n: err %v out %q; want exit 0, the name asked, Cancelled", err, out)
	}
	if len(a.m.List(0)) != 2 {
		t.Fatal("answering n deleted the profile")
	}
	if _, err := run(t, a, "", "profiles", "delete", "work"); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Errorf("delete without a terminal: %v", err)
	}
	out, err = runTTY(t, a, true, "y\n", "profiles", "delete", "work")
	if err != nil || !strings.Contains(out, `Deleted profile "Work"`) || len(a.m.List(0)) != 1 {
		t.Fatalf("delete answered y: %v %s", err, out)
	}
}

func TestPickAmbiguous(t *testing.T) {
	list := []agentapi.ProfileInfo{{ID: "ab12", Name: "Work"}, {ID: "ab34", Name: "Home"}, {ID: "cd56", Name: "ab"}}
	tests := []struct{ arg, want, errText string }{
		{"ab", "cd56", ""}, // an exact name wins over a prefix
		{"ab1", "ab12", ""},
		{"a", "", `matches several profiles: ab12 ("Work"), ab34 ("Home")`},
		{"", "", "no profile"},
	}
	for _, tc := range tests {
		p, err := pick(i18n.New().Localizer(i18n.English), list, tc.arg)
		if tc.errText != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errText) {
				t.Errorf("pick(%q) = %v, want %q", tc.arg, err, tc.errText)
			}
			continue
		}
		if err != nil || p.ID != tc.want {
			t.Errorf("pick(%q) = %s, %v; want %s", tc.arg, p.ID, err, tc.want)
		}
	}
}

func byIDDefault(a *agent, id string) bool {
	for _, p := range a.m.List(0) {
		if p.Default {
			return p.ID == id
		}
	}
	return false
}

// Issue 13 items 4 and 7: list says why a profile is invalid or beyond the
// plan and names the files that are not profiles; creating past the limit
// warns.
func TestListReasonsAndLimitWarning(t *testing.T) {
	a := startAgent(t, func(o *profiles.Options) { o.PlanLimit = func() int { return 1 } })
	if out, err := run(t, a, "", "profiles", "create", "--owner", "Jeanne", "--name", "First"); err != nil || strings.Contains(out, "Warning") {
		t.Fatalf("first create: %v %s", err, out)
	}
	out, err := run(t, a, "", "profiles", "create", "--owner", "Jeanne", "--name", "Second")
	if err != nil || !strings.Contains(out, `Warning: profile "Second" is not usable: your plan allows 1 profiles`) {
		t.Fatalf("create past the limit: %v %q, want a warning", err, out)
	}
	dir := a.m.Dir()
	if err := os.MkdirAll(filepath.Join(dir, "broken"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken", "certificate.pem"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mine.p12"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.m.Rescan()
	out, err = run(t, a, "", "profiles", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`Why "Second" is unlicensed: your plan allows 1 profiles`,
		`Why "broken" is invalid: profile.json is missing, and`,
		"mine.p12 in the profile folder is not a profile",
		"entitle profiles import " + filepath.Join(dir, "mine.p12"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("list output lacks %q:\n%s", want, out)
		}
	}
}

// Issue 13 item 5: a TLS-only certificate is refused with the reason and
// nothing written, unless --force.
func TestImportTLSOnlyRefused(t *testing.T) {
	a := startAgent(t)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "www.example.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(k)
	file := filepath.Join(t.TempDir(), "tls.pem")
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})...)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = run(t, a, "", "profiles", "import", file)
	if err == nil || !strings.Contains(err.Error(), "cannot sign documents") || !strings.Contains(err.Error(), "key usage") {
		t.Fatalf("import of a TLS-only certificate: %v, want a refusal with the reason", err)
	}
	if n := len(a.m.List(0)); n != 0 {
		t.Fatalf("a refused import wrote %d profile(s)", n)
	}
	out, err := run(t, a, "", "profiles", "import", file, "--force")
	if err != nil || !strings.Contains(out, ": invalid.") {
		t.Fatalf("import --force: %v %s", err, out)
	}
	if p := a.m.List(0); len(p) != 1 || p[0].Status != certcheck.StatusInvalid {
		t.Fatalf("forced import: %+v", p)
	}
}
