package pkgtest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/testenv"
)

// TestPackageVersion: installer/version.sh, which the Makefile, build.sh and
// build-pkg.sh share, numbers releases and development builds as
// docs/install.md says.
func TestPackageVersion(t *testing.T) {
	script := filepath.Join(testenv.RepoRoot(t), "installer", "version.sh")
	for _, tt := range []struct{ raw, want string }{
		{"v1.2.3", "1.2.3"},
		{"1.2.3", "1.2.3"},
		{"v1.2.3-rc.1", "1.2.3-rc.1"},
		{"423a473", "0.0.0-dev.g423a473"},
		{"423a473-dirty", "0.0.0-dev.g423a473.dirty"},
		{"v1.2.3-4-gabc1234", "0.0.0-dev.g1.2.3.4.gabc1234"},
		{"dev", "0.0.0-dev.gdev"},
	} {
		out, err := exec.Command(script, tt.raw).Output()
		if got := strings.TrimSpace(string(out)); err != nil || got != tt.want {
			t.Errorf("version.sh %s = %q (%v), want %q", tt.raw, got, err, tt.want)
		}
	}
	// The Makefile stamps the programs with the same version as the packages.
	cmd := exec.Command("make", "-n", "build", "package", "VERSION=v9.8.7")
	cmd.Dir = testenv.RepoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pkg/version.Version=9.8.7'", "VERSION='9.8.7'"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("make -n build package VERSION=v9.8.7 lacks %q:\n%s", want, out)
		}
	}
}
