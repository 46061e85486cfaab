package pkgtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/testenv"
)

// TestScriptsParse checks every installer script with its own shell's -n, and
// that each one stops at the first error. Maintainer scripts are POSIX sh
// (rpm runs them with /bin/sh): they are checked with dash, the strictest
// common /bin/sh.
func TestScriptsParse(t *testing.T) {
	root := filepath.Join(testenv.RepoRoot(t), "installer")
	tests := []struct {
		glob, shell, strict string
	}{
		{"*.sh", "bash", "set -euo pipefail"},
		{"macos/build-pkg.sh", "bash", "set -euo pipefail"},
		{"macos/scripts/*install", "bash", "set -euo pipefail"},
		{"pkgtest/testdata/*.sh", "bash", "set -euo pipefail"},
		{"linux/*/scripts/*.sh", "dash", "set -eu"},
	}
	for _, tt := range tests {
		files, err := filepath.Glob(filepath.Join(root, tt.glob))
		if err != nil || len(files) == 0 {
			t.Fatalf("no %s (%v)", tt.glob, err)
		}
		for _, f := range files {
			name, _ := filepath.Rel(root, f)
			t.Run(name, func(t *testing.T) {
				shell := testenv.LookPath(t, tt.shell)
				if out, err := exec.Command(shell, "-n", f).CombinedOutput(); err != nil {
					t.Errorf("%s -n: %v\n%s", tt.shell, err, out)
				}
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(b), "\n"+tt.strict+"\n") {
					t.Errorf("no %q line", tt.strict)
				}
				if fi, err := os.Stat(f); err != nil || fi.Mode()&0o111 == 0 {
					t.Errorf("not executable (%v)", err)
				}
			})
		}
	}
}
