package pkgtest

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/testenv"
)

// agentTOMLScript runs installer/agent-toml.sh TEMPLATE OUT with env.
func agentTOMLScript(t *testing.T, tmpl, out string, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(testenv.RepoRoot(t), "installer", "agent-toml.sh"), tmpl, out)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	b, err := cmd.CombinedOutput()
	return string(b), err
}

// configShow runs `entitle config show` on file, with no ENTITLE_* variables.
func configShow(t *testing.T, entitle, file string) string {
	t.Helper()
	cmd := exec.Command(entitle, "config", "show", "--config", file)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("entitle config show --config %s: %v\n%s", file, err, out)
	}
	return string(out)
}

// wantVendorConfig checks that the agent reads the vendor's server and keys
// from file, and that nothing else of the template changed.
func wantVendorConfig(t *testing.T, entitle, file, template string) {
	t.Helper()
	out := configShow(t, entitle, file)
	for _, want := range []string{
		"server_url      = " + vendorServerURL + "\n",
		`pinned_keys     = ["` + strings.Join(vendorKeys, `" "`) + `"]`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("%s: config show lacks %q:\n%s", file, want, out)
		}
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(template)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(tmpl), "\n") {
		if !strings.HasPrefix(line, "#server_url = ") && !strings.HasPrefix(line, "#pinned_keys = ") {
			kept = append(kept, line)
		}
	}
	var rest []string
	for _, line := range strings.Split(string(got), "\n") {
		if !strings.HasPrefix(line, "server_url = ") && !strings.HasPrefix(line, "pinned_keys = ") && line != "# Set when this package was built:" {
			rest = append(rest, line)
		}
	}
	if strings.Join(rest, "\n") != strings.Join(kept, "\n") {
		t.Errorf("%s changes more of %s than server_url and pinned_keys:\n%s", file, template, got)
	}
}

// TestAgentTOMLDefaults: installer/agent-toml.sh writes the vendor's
// SERVER_URL and PINNED_KEYS into each OS's template so the agent reads them,
// leaves a template unchanged without them, and refuses values that are not a
// URL or keys (they would break or inject into the TOML).
func TestAgentTOMLDefaults(t *testing.T) {
	entitle := testenv.BuildBinary(t, "./agent/cmd/entitle")
	root := testenv.RepoRoot(t)
	for _, tmpl := range []string{"linux/agent/agent.toml", "windows/agent.toml", "macos/agent.toml"} {
		t.Run(tmpl, func(t *testing.T) {
			src := filepath.Join(root, "installer", tmpl)
			out := filepath.Join(t.TempDir(), "agent.toml")
			if msg, err := agentTOMLScript(t, src, out, "SERVER_URL="+vendorServerURL, "PINNED_KEYS="+strings.Join(vendorKeys, ", ")); err != nil {
				t.Fatalf("agent-toml.sh: %v\n%s", err, msg)
			}
			wantVendorConfig(t, entitle, out, src)

			plain := filepath.Join(t.TempDir(), "agent.toml")
			if msg, err := agentTOMLScript(t, src, plain); err != nil {
				t.Fatalf("agent-toml.sh without settings: %v\n%s", err, msg)
			}
			if a, b := readFile(t, src), readFile(t, plain); a != b {
				t.Errorf("without SERVER_URL and PINNED_KEYS the template changed:\n%s", b)
			}
		})
	}
	src := filepath.Join(root, "installer", "linux", "agent", "agent.toml")
	many := strings.TrimSuffix(strings.Repeat(vendorKeys[0]+",", 17), ",")
	for _, tt := range []struct{ name, env, want string }{
		{"quote in URL", `SERVER_URL=https://x.example/"` + "\npinned_keys = []", "want an http:// or https:// URL"},
		{"not http", "SERVER_URL=ftp://x.example", "want an http:// or https:// URL"},
		{"space in URL", "SERVER_URL=https://x.example/a b", "want an http:// or https:// URL"},
		{"short key", "PINNED_KEYS=abc", "abc is not a base64url Ed25519 public key"},
		{"key with quote", `PINNED_KEYS=` + vendorKeys[0][:42] + `"`, "is not a base64url Ed25519 public key"},
		{"17 keys", "PINNED_KEYS=" + many, "17 keys, at most 16"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "agent.toml")
			msg, err := agentTOMLScript(t, src, out, tt.env)
			if err == nil || !strings.Contains(msg, tt.want) {
				t.Errorf("agent-toml.sh with %s: %v %q, want an error %q", tt.env, err, msg, tt.want)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused value still wrote %s", out)
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestVendorPackages: `make package SERVER_URL=... PINNED_KEYS=...` (build.sh
// with those variables) puts the vendor's server and keys into the agent.toml
// of the .deb, the .rpm, the MSI and the tarball; a build without them ships
// the template as it is.
func TestVendorPackages(t *testing.T) {
	testenv.LookPath(t, "dpkg-deb")
	dir := release(t, vendor)
	root := testenv.RepoRoot(t)
	entitle := filepath.Join(dir, "bin", "linux-"+runtime.GOARCH, "entitle")
	linuxTmpl := filepath.Join(root, "installer", "linux", "agent", "agent.toml")

	debConf := filepath.Join(t.TempDir(), "agent.toml")
	os.WriteFile(debConf, []byte(debFile(t, debAgent(t, dir), "./etc/entitle/agent.toml")), 0o644)
	t.Run("deb", func(t *testing.T) { wantVendorConfig(t, entitle, debConf, linuxTmpl) })

	t.Run("rpm", func(t *testing.T) {
		testenv.LookPath(t, "rpm")
		digests := run(t, "rpm", "-qp", "--qf", "[%{FILENAMES} %{FILEDIGESTS}\n]", rpmAgent(t, dir))
		sum := sha256.Sum256([]byte(readFile(t, debConf)))
		if want := "/etc/entitle/agent.toml " + hex.EncodeToString(sum[:]) + "\n"; !strings.Contains(digests, want) {
			t.Errorf("the rpm's agent.toml is not the deb's (vendor defaults): want %q in\n%s", want, digests)
		}
	})

	t.Run("msi", func(t *testing.T) {
		testenv.LookPath(t, "msiextract")
		x := t.TempDir()
		if out, err := exec.Command("msiextract", "-C", x, msiFile(t, dir)).CombinedOutput(); err != nil {
			t.Fatalf("msiextract: %v\n%s", err, out)
		}
		m, _ := filepath.Glob(filepath.Join(x, "Entitle", "agent.toml"))
		if len(m) != 1 {
			t.Fatalf("agent.toml not extracted from the MSI: %v", m)
		}
		wantVendorConfig(t, entitle, m[0], filepath.Join(root, "installer", "windows", "agent.toml"))
	})

	t.Run("tarball", func(t *testing.T) {
		files := tarFiles(t, pkgFile(t, dir, "entitle-*-linux-"+runtime.GOARCH+".tar.gz"))
		var names []string
		for n := range files {
			names = append(names, n)
		}
		slices.Sort(names)
		// What README's and install.md's tarball steps use.
		if want := []string{"agent.toml", "entitle", "entitle-tray", "install.md"}; !slices.Equal(names, want) {
			t.Errorf("tarball files %v, want %v", names, want)
		}
		conf := filepath.Join(t.TempDir(), "agent.toml")
		os.WriteFile(conf, []byte(files["agent.toml"]), 0o644)
		wantVendorConfig(t, entitle, conf, linuxTmpl)
	})

	t.Run("without vendor settings", func(t *testing.T) {
		plain := release(t, oldVersion)
		if got := debFile(t, debAgent(t, plain), "./etc/entitle/agent.toml"); got != readFile(t, linuxTmpl) {
			t.Errorf("a build without SERVER_URL and PINNED_KEYS changed agent.toml:\n%s", got)
		}
	})
}

// debFile returns the content of path (as "./etc/...") in a .deb.
func debFile(t *testing.T, deb, path string) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", `dpkg-deb --fsys-tarfile "$1" | tar -xO "$2"`, "sh", deb, path).Output()
	if err != nil {
		t.Fatalf("%s in %s: %v", path, deb, err)
	}
	return string(out)
}

// tarFiles returns the regular files of a .tar.gz by name below its one top
// folder, failing if an entry is outside that folder.
func tarFiles(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	top := strings.TrimSuffix(filepath.Base(path), ".tar.gz")
	files := map[string]string{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		name, ok := strings.CutPrefix(h.Name, top+"/")
		if !ok && strings.TrimSuffix(h.Name, "/") != top {
			t.Errorf("%s: entry %s outside %s/", path, h.Name, top)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[name] = string(b)
			if h.Uid != 0 || h.Gid != 0 {
				t.Errorf("%s: %s owned by %d:%d, want 0:0", path, h.Name, h.Uid, h.Gid)
			}
		}
	}
}
