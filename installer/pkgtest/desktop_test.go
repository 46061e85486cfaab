package pkgtest

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/testenv"
)

// desktopKeys parses the [Desktop Entry] group of a .desktop file.
func desktopKeys(t *testing.T, body string) map[string]string {
	t.Helper()
	keys := map[string]string{}
	group := ""
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			group = line
		case group == "[Desktop Entry]":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Errorf("desktop entry line %q", line)
			}
			keys[k] = v
		}
	}
	return keys
}

// TestTrayDesktopEntry unpacks the agent .deb and checks the tray's autostart
// entry against the package itself: TryExec names the program Exec runs (so a
// removed package's leftover entry, a conffile, is skipped by the session),
// and the Icon it names is shipped in the hicolor theme at every size, as
// real PNGs of that size.
func TestTrayDesktopEntry(t *testing.T) {
	testenv.LookPath(t, "dpkg-deb")
	deb := debAgent(t, release(t, oldVersion))
	root := t.TempDir()
	run(t, "dpkg-deb", "-x", deb, root)
	body, err := os.ReadFile(filepath.Join(root, "etc/xdg/autostart/entitle-tray.desktop"))
	if err != nil {
		t.Fatal(err)
	}
	keys := desktopKeys(t, string(body))
	prog, _, _ := strings.Cut(keys["Exec"], " ")
	if prog == "" || keys["TryExec"] != prog {
		t.Errorf("TryExec=%q, want the program of Exec=%q", keys["TryExec"], keys["Exec"])
	}
	if fi, err := os.Stat(filepath.Join(root, prog)); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("Exec program %s is not shipped as an executable: %v", prog, err)
	}
	icon := keys["Icon"]
	if icon == "" || strings.ContainsAny(icon, "/.") {
		t.Fatalf("Icon=%q: want a theme icon name", icon)
	}
	for _, size := range []int{16, 22, 32, 48, 64} {
		p := filepath.Join(root, fmt.Sprintf("usr/share/icons/hicolor/%dx%d/apps/%s.png", size, size, icon))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("Icon=%s at %d px is not shipped: %v", icon, size, err)
			continue
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s: %v", p, err)
		} else if r := img.Bounds(); r.Dx() != size || r.Dy() != size {
			t.Errorf("%s is %v", p, r)
		}
	}
	v := testenv.LookPath(t, "desktop-file-validate")
	if out, err := exec.Command(v, filepath.Join(root, "etc/xdg/autostart/entitle-tray.desktop")).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("desktop-file-validate: %v\n%s", err, out)
	}
}
