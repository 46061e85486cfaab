package profiles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/agent/profiles/certcheck"
)

// Issue 13 item 4: the folder's contract for a person who drops files in.
// A subfolder with a usable certificate and key is adopted; anything else
// is listed with the reason, and root files with the command importing them.
func TestDroppedFilesContract(t *testing.T) {
	dir := t.TempDir()
	k := newKey(t)
	c := makeCert(t, k, certSpec{cn: "Jeanne Dupont"})
	drop := func(folder string, files map[string][]byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, folder), 0o700); err != nil {
			t.Fatal(err)
		}
		for n, b := range files {
			if err := os.WriteFile(filepath.Join(dir, folder, n), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	drop("jeanne", map[string][]byte{CertFile: certPEM(c), KeyFile: keyPEM(t, k)})
	drop("mismatch", map[string][]byte{CertFile: certPEM(c), KeyFile: keyPEM(t, newKey(t))})
	drop("bad name!", map[string][]byte{CertFile: certPEM(c), KeyFile: keyPEM(t, k)})
	drop("", map[string][]byte{"dropped.p12": []byte("x"), "cert.pem": certPEM(c), "notes.txt": []byte("hi"), ".hidden": []byte("h")})

	m := newTestManager(t, dir)
	got := byID(m.List(0))
	tests := []struct {
		id, status, reason, name string
		adopted                  bool
	}{
		{"jeanne", certcheck.StatusValid, "valid from", "Jeanne Dupont", true},
		{"mismatch", certcheck.StatusInvalid, "profile.json is missing, and the private key does not match", "mismatch", false},
		{"bad name!", certcheck.StatusInvalid, `the folder name "bad name!" cannot be a profile id`, "bad name!", false},
	}
	for _, tc := range tests {
		p, ok := got[tc.id]
		if !ok {
			t.Errorf("%s: not listed", tc.id)
			continue
		}
		if p.Status != tc.status || !strings.Contains(p.Reason, tc.reason) || p.Name != tc.name || p.Adopted != tc.adopted {
			t.Errorf("%s: status %q reason %q name %q adopted %v, want %q %q %q %v", tc.id, p.Status, p.Reason, p.Name, p.Adopted, tc.status, tc.reason, tc.name, tc.adopted)
		}
	}
	if p := got["jeanne"]; !p.Created.Equal(c.NotBefore) || p.Owner != "Jeanne Dupont" || !p.Licensed {
		t.Errorf("adopted profile: %+v (created must be the certificate's start, stable)", p)
	}
	if len(got) != 3 {
		t.Errorf("listed %d entries, want 3 (root files are not profiles)", len(got))
	}
	st := m.Status(0)
	want := map[string]string{"dropped.p12": LoosePKCS12, "cert.pem": LooseCertificate, "notes.txt": LooseOther}
	if len(st.NotProfiles) != len(want) {
		t.Fatalf("not profiles = %+v, want %v", st.NotProfiles, want)
	}
	for _, l := range st.NotProfiles {
		if want[l.Name] != l.Code {
			t.Errorf("%s: code %q, want %q", l.Name, l.Code, want[l.Name])
		}
		if l.Code != LooseOther && !strings.Contains(l.Command, "entitle profiles import "+filepath.Join(dir, l.Name)) {
			t.Errorf("%s: command %q does not import it", l.Name, l.Command)
		}
	}
	if !strings.Contains(strings.Join(st.Warnings, "\n"), "dropped.p12 at the profile folder root is not a profile") {
		t.Errorf("warnings do not name the dropped file: %q", st.Warnings)
	}
	// The adopted profile can be the default and keeps its place.
	if err := m.SetDefault(t.Context(), "jeanne"); err != nil {
		t.Fatalf("SetDefault(adopted): %v", err)
	}
}

// The root files are tracked by the scans and the watcher: dropping and
// removing one is seen without a full rescan, and Status reads no disk.
func TestLooseFilesWatched(t *testing.T) {
	dir := t.TempDir()
	m := newTestManager(t, dir)
	runManager(t, m)
	waitWatching(t, m)
	p := filepath.Join(dir, "late.pfx")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the dropped file to be listed", func() bool {
		l := m.Status(0).NotProfiles
		return len(l) == 1 && l[0].Name == "late.pfx" && l[0].Code == LoosePKCS12
	})
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the removed file to be forgotten", func() bool { return len(m.Status(0).NotProfiles) == 0 })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
