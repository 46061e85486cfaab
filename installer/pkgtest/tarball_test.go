package pkgtest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/entitle/entitle/internal/docstest"
	"github.com/entitle/entitle/pkg/testenv"
)

// docBlock returns the one code block of a documentation file that contains
// marker.
func docBlock(t *testing.T, file, marker string) docstest.Block {
	t.Helper()
	blocks, err := docstest.Parse(testenv.RepoRoot(t), file)
	if err != nil {
		t.Fatal(err)
	}
	var found []docstest.Block
	for _, b := range blocks {
		if strings.Contains(b.Code, marker) {
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: want one block containing %q, found %d", file, marker, len(found))
	}
	return found[0]
}

// TestTarballInstallDocs runs the tarball install steps of README.md and
// docs/install.md as written (sudo is root here, systemd a shim), on the
// tarball make package builds, and checks what they installed: the programs,
// agent.toml 0640, the group entitle and a unit that passes --token-group.
func TestTarballInstallDocs(t *testing.T) {
	dir := release(t, oldVersion)
	tarball := fmt.Sprintf("entitle-%s-linux-%s.tar.gz", oldVersion, runtime.GOARCH)
	for _, tt := range []struct {
		file, marker string
		prepare      string // what the reader has at hand before the steps
		installed    []string
	}{
		{
			file: "README.md", marker: "tar -xzf",
			prepare:   "cp /pkgs/" + tarball + " .",
			installed: []string{"/usr/local/bin/entitle", "/usr/local/bin/entitle-tray"},
		},
		{
			file: "docs/install.md", marker: "entitle service install --config",
			prepare:   "tar -xzf /pkgs/" + tarball + " --strip-components=1",
			installed: []string{"/usr/local/bin/entitle"},
		},
	} {
		t.Run(tt.file, func(t *testing.T) {
			b := docBlock(t, tt.file, tt.marker)
			steps := strings.NewReplacer("1.2.3", oldVersion, "amd64", runtime.GOARCH).Replace(b.Code)
			sb := newSandbox(t, dir)
			sb.mustSh(serviceShim + "mkdir -p /run/systemd/system\n" +
				"printf '#!/bin/sh\\nexec \"$@\"\\n' >/usr/local/bin/sudo && chmod 0755 /usr/local/bin/sudo\n" +
				"getent group entitle >/dev/null && groupdel entitle || true")
			out, err := sb.sh("export USER=root; mkdir -p /root/dl && cd /root/dl && " + tt.prepare + "\n" + steps)
			if err != nil {
				t.Fatalf("%s: the steps fail: %v\n--- steps\n%s--- output\n%s", b, err, steps, out)
			}
			for _, f := range tt.installed {
				if got := sb.stat(f); got != "755 root root regular file" {
					t.Errorf("%s: %s", f, got)
				}
			}
			if got := sb.stat("/etc/entitle/agent.toml"); got != "640 root root regular file" {
				t.Errorf("/etc/entitle/agent.toml: %s", got)
			}
			sb.mustSh("getent group entitle")
			unit := sb.mustSh("cat /etc/systemd/system/entitle-agent.service")
			if !strings.Contains(unit, `"--token-group" "entitle"`) {
				t.Errorf("the unit does not pass --token-group entitle:\n%s", unit)
			}
		})
	}
}
