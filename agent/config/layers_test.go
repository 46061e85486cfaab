package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func regMap(m map[string]string) func() (map[string]string, error) {
	return func() (map[string]string, error) { return m, nil }
}

// The registry layer sits between the file and the environment; empty
// registry values are unset.
func TestRegistryLayer(t *testing.T) {
	kFile, kReg, kEnv, kFlag := testKey(t), testKey(t), testKey(t), testKey(t)
	file := writeFile(t, `
server_url = "http://file.example"
management_mode = "file-mode"
enrollment_token = "file-token"
pinned_keys = ["`+kFile+`"]
`)
	fullReg := map[string]string{
		RegServerURL: "https://reg.example", RegEnrollmentToken: "reg-token",
		RegManagementMode: "managed", RegPinnedKeys: kReg + " , " + kFile,
	}
	tests := []struct {
		name                   string
		reg                    map[string]string
		env                    map[string]string
		flags                  []string
		url, mode, token, keys string
	}{
		{"file only (no registry)", nil, nil, nil,
			"http://file.example", "file-mode", "file-token", kFile},
		{"registry over file", fullReg, nil, nil,
			"https://reg.example", "managed", "reg-token", kReg + "," + kFile},
		{"empty registry values are unset", map[string]string{
			RegServerURL: "", RegEnrollmentToken: "  ", RegManagementMode: "", RegPinnedKeys: " , "}, nil, nil,
			"http://file.example", "file-mode", "file-token", kFile},
		{"registry fills only what it sets", map[string]string{RegEnrollmentToken: "reg-token"}, nil, nil,
			"http://file.example", "file-mode", "reg-token", kFile},
		{"env over registry", fullReg, map[string]string{
			EnvServerURL: "https://env.example", EnvEnrollment: " env-token ", EnvManagementMode: "env-mode", EnvPinnedKeys: kEnv}, nil,
			"https://env.example", "env-mode", "env-token", kEnv},
		{"flags over env over registry", fullReg, map[string]string{EnvServerURL: "https://env.example", EnvEnrollment: "env-token"},
			[]string{"--server-url", "https://flag.example", "--enrollment-token", "flag-token", "--pinned-key", kFlag},
			"https://flag.example", "managed", "flag-token", kFlag},
		{"unknown registry values are ignored", map[string]string{"install_dir": `C:\Program Files\Entitle`, "listen": "0.0.0.0:1"}, nil, nil,
			"http://file.example", "file-mode", "file-token", kFile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			AddFlags(fs)
			if err := fs.Parse(tc.flags); err != nil {
				t.Fatal(err)
			}
			c, err := load(file, envMap(tc.env), regMap(tc.reg), fs)
			if err != nil {
				t.Fatal(err)
			}
			if c.ServerURL != tc.url || c.ManagementMode != tc.mode || c.EnrollmentToken.Reveal() != tc.token || strings.Join(c.PinnedKeys, ",") != tc.keys {
				t.Errorf("got url %q mode %q token %q keys %v; want %q %q %q %q",
					c.ServerURL, c.ManagementMode, c.EnrollmentToken.Reveal(), c.PinnedKeys, tc.url, tc.mode, tc.token, tc.keys)
			}
		})
	}
}

func TestRegistryErrors(t *testing.T) {
	boom := errors.New("access denied")
	_, err := load("", nil, func() (map[string]string, error) { return nil, boom }, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("a registry read error must be returned, wrapped: %v", err)
	}
	_, err = load("", nil, regMap(map[string]string{RegServerURL: "ftp://x"}), nil)
	if err == nil || !strings.Contains(err.Error(), "server_url") {
		t.Fatalf("registry values are validated: %v", err)
	}
	_, err = load("", nil, regMap(map[string]string{RegPinnedKeys: "nope"}), nil)
	if err == nil || !strings.Contains(err.Error(), "pinned key 1") {
		t.Fatalf("registry keys are validated: %v", err)
	}
}

// Load outside Windows has no registry layer: the public entry point behaves
// as before.
func TestLoadUsesPlatformRegistry(t *testing.T) {
	reg, err := readRegistry()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load("", envMap(map[string]string{EnvEnrollment: "k"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if reg == nil && c.EnrollmentToken.Reveal() != "k" {
		t.Fatalf("token %q", c.EnrollmentToken.Reveal())
	}
}

// The enrollment token never shows up when the configuration is printed,
// logged or encoded, nor in validation errors.
func TestEnrollmentTokenStaysSecret(t *testing.T) {
	const tok = "SECRET-TOKEN-1234"
	c, err := load(writeFile(t, `enrollment_token = "`+tok+`"`), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.EnrollmentToken.Reveal() != tok || !c.EnrollmentToken.IsSet() {
		t.Fatalf("token not loaded from the file: %q", c.EnrollmentToken.Reveal())
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("cfg", "config", c, "token", c.EnrollmentToken)
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("cfg", "config", c, "token", c.EnrollmentToken)
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{
		fmt.Sprint(c), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%s", c.EnrollmentToken),
		fmt.Sprintf("%q", c.EnrollmentToken), logBuf.String(), string(js),
	} {
		if strings.Contains(out, tok) {
			t.Fatalf("token leaked: %s", out)
		}
		if !strings.Contains(out, Redacted) {
			t.Fatalf("a set token must show as %q: %s", Redacted, out)
		}
	}
	if Secret("").String() != "" {
		t.Fatal("unset token must print empty")
	}

	long := strings.Repeat("Z", MaxEnrollmentToken+1)
	for _, bad := range []string{long, "tok\nen"} {
		_, err := load("", envMap(map[string]string{EnvEnrollment: bad}), nil, nil)
		if err == nil || !strings.Contains(err.Error(), "enrollment_token") || strings.Contains(err.Error(), bad) {
			t.Fatalf("bad token %q: %v", bad[:4], err)
		}
	}
}
