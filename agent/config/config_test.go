package config

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/entitle/entitle/pkg/lease"
)

func testKey(t *testing.T) string {
	t.Helper()
	k, err := lease.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return lease.EncodePublicKey(k.Public().(ed25519.PublicKey))
}

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "agent.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsValid(t *testing.T) {
	d := Defaults()
	if err := d.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if d.Listen != "127.0.0.1:7343" || d.ProductID != "entitle-signing" || d.ServerURL != "http://127.0.0.1:8780" {
		t.Fatalf("unexpected defaults %+v", d)
	}
}

func TestPrecedence(t *testing.T) {
	k1, k2, k3 := testKey(t), testKey(t), testKey(t)
	file := writeFile(t, `
listen = "127.0.0.1:1001"
state_dir = "/file/state"
server_url = "http://file.example:1"
product_id = "from-file"
pinned_keys = ["`+k1+`"]
expiring_days = 10
`)
	tests := []struct {
		name  string
		env   map[string]string
		flags []string
		check func(t *testing.T, c Config)
	}{
		{"file only", nil, nil, func(t *testing.T, c Config) {
			if c.Listen != "127.0.0.1:1001" || c.StateDir != "/file/state" || c.ProductID != "from-file" || c.ExpiringDays != 10 {
				t.Errorf("file values not applied: %+v", c)
			}
			if len(c.PinnedKeys) != 1 || c.PinnedKeys[0] != k1 {
				t.Errorf("keys %v", c.PinnedKeys)
			}
			if c.ProfileDir != Defaults().ProfileDir {
				t.Errorf("unset key lost its default: %q", c.ProfileDir)
			}
		}},
		{"env over file", map[string]string{EnvListen: "127.0.0.1:2002", EnvPinnedKeys: k2 + ", " + k3, EnvExpiringDays: "5"}, nil, func(t *testing.T, c Config) {
			if c.Listen != "127.0.0.1:2002" || c.StateDir != "/file/state" || c.ExpiringDays != 5 {
				t.Errorf("env not applied over file: %+v", c)
			}
			if strings.Join(c.PinnedKeys, ",") != k2+","+k3 {
				t.Errorf("keys %v", c.PinnedKeys)
			}
		}},
		{"flags over env", map[string]string{EnvListen: "127.0.0.1:2002", EnvStateDir: "/env/state"},
			[]string{"--listen", "[::1]:3003", "--pinned-key", k3, "--pinned-key", k2}, func(t *testing.T, c Config) {
				if c.Listen != "[::1]:3003" || c.StateDir != "/env/state" {
					t.Errorf("flag not applied over env: %+v", c)
				}
				if strings.Join(c.PinnedKeys, ",") != k3+","+k2 {
					t.Errorf("keys %v", c.PinnedKeys)
				}
			}},
		{"unchanged flag defaults do not override", map[string]string{EnvServerURL: "https://env.example"}, []string{"--product-id", "p2"}, func(t *testing.T, c Config) {
			if c.ServerURL != "https://env.example" || c.ProductID != "p2" {
				t.Errorf("got %+v", c)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			AddFlags(fs)
			if err := fs.Parse(tc.flags); err != nil {
				t.Fatal(err)
			}
			c, err := Load(file, envMap(tc.env), fs)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestConfigFileSelection(t *testing.T) {
	file := writeFile(t, `product_id = "chosen"`)
	missing := filepath.Join(t.TempDir(), "nope.toml")

	c, err := Load(missing, nil, nil)
	if err != nil || c.ProductID != DefaultProductID {
		t.Fatalf("a missing default file must be ignored: %v %+v", err, c)
	}
	if _, err := Load("", envMap(map[string]string{EnvConfig: missing}), nil); err == nil {
		t.Fatal("a missing file named by ENTITLE_CONFIG must be an error")
	}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	AddFlags(fs)
	if err := fs.Parse([]string{"--config", file}); err != nil {
		t.Fatal(err)
	}
	c, err = Load(missing, nil, fs)
	if err != nil || c.ProductID != "chosen" {
		t.Fatalf("--config not used: %v %+v", err, c)
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name, file string
		env        map[string]string
		want       string
	}{
		{"unknown key", "listen = \"127.0.0.1:1\"\nlisten_addr = \"x\"\n", nil, `unknown key "listen_addr"`},
		{"unknown nested key", "[server]\nurl = \"x\"\n", nil, `unknown key "server`},
		{"bad toml", "listen = ", nil, "config file"},
		{"wildcard listen", `listen = "0.0.0.0:7343"`, nil, "not a loopback"},
		{"lan listen", `listen = "192.168.1.5:7343"`, nil, "not a loopback"},
		{"hostname listen", `listen = "localhost:7343"`, nil, "loopback IP:port"},
		{"no port", `listen = "127.0.0.1"`, nil, "loopback IP:port"},
		{"bad url", `server_url = "ftp://x"`, nil, "server_url"},
		{"relative url", `server_url = "/v1"`, nil, "server_url"},
		{"bad help url", `help_url = "nope"`, nil, "help_url"},
		{"bad key", `pinned_keys = ["abc"]`, nil, "pinned key 1"},
		{"bad product", `product_id = "Has Space"`, nil, "product_id"},
		{"bad log level", `log_level = "loud"`, nil, "log_level"},
		{"bad days env", "", map[string]string{EnvExpiringDays: "x"}, EnvExpiringDays},
		{"days range", `expiring_days = 9999`, nil, "expiring_days"},
		{"env listen", "", map[string]string{EnvListen: "0.0.0.0:1"}, "not a loopback"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tc.file), envMap(tc.env), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestOversizeFile(t *testing.T) {
	p := writeFile(t, "# "+strings.Repeat("x", MaxFileSize))
	if _, err := Load(p, nil, nil); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("got %v", err)
	}
}

func TestKeySet(t *testing.T) {
	c := Defaults()
	c.PinnedKeys = []string{testKey(t), testKey(t)}
	ks, err := c.KeySet()
	if err != nil || ks.Len() != 2 {
		t.Fatalf("%v %d", err, ks.Len())
	}
}

func TestUserProfileDir(t *testing.T) {
	got := UserProfileDir(envMap(map[string]string{"HOME": "/home/ann", "APPDATA": `C:\Users\ann\AppData\Roaming`}))
	if got == "" || !strings.Contains(got, "ann") {
		t.Fatalf("got %q", got)
	}
}
