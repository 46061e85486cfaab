package pkgtest

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/testenv"
)

// TestConfigTemplates has the released agent load each OS's agent.toml
// template (the agent rejects unknown keys, so a typo in a template would stop
// the service) and checks that the templates keep the built-in defaults.
// (TestServerPackage does the same for server.toml with the real server.)
func TestConfigTemplates(t *testing.T) {
	entitle := filepath.Join(release(t, oldVersion), "bin", "linux-"+runtime.GOARCH, "entitle")
	root := testenv.RepoRoot(t)
	for _, tmpl := range []string{"linux/agent/agent.toml", "windows/agent.toml", "macos/agent.toml"} {
		t.Run(tmpl, func(t *testing.T) {
			cmd := exec.Command(entitle, "config", "show", "--config", filepath.Join(root, "installer", tmpl))
			cmd.Env = []string{"PATH=/usr/bin:/bin"} // no ENTITLE_* from the caller
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("entitle config show: %v\n%s", err, out)
			}
			for _, want := range []string{"server_url      = http://127.0.0.1:8780", "listen          = 127.0.0.1:7343"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("%s: the template changes a default: want %q in\n%s", tmpl, want, out)
				}
			}
		})
	}
}
