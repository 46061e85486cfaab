package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/testenv"
)

// runInProcess runs the command line with env variables env (plus an empty
// configuration file, so the machine's own file is never read).
func runInProcess(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cfgFile := filepath.Join(t.TempDir(), "agent.toml")
	if err := os.WriteFile(cfgFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{config.EnvConfig: cfgFile}
	for k, v := range env {
		vars[k] = v
	}
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		LookupEnv:  func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		IsTerminal: func(any) bool { return false },
		OpenURL:    func(context.Context, string) error { return nil },
	})
	return out.String(), errb.String(), code
}

// `entitle config show` says whether an enrollment token is set, never what
// it is.
func TestConfigShowEnrollmentToken(t *testing.T) {
	tok, err := licensekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		want     string
		wantJSON string
	}{
		{"not set", nil, nil, "enrollment_token = not set\n", ""},
		{"from the environment", map[string]string{config.EnvEnrollment: tok}, nil, "enrollment_token = set\n", config.Redacted},
		{"from the flag", nil, []string{"--enrollment-token", tok}, "enrollment_token = set\n", config.Redacted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runInProcess(t, tc.env, append([]string{"config", "show"}, tc.args...)...)
			if code != ExitOK || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			js, errOut, code := runInProcess(t, tc.env, append([]string{"config", "show", "--json"}, tc.args...)...)
			var v map[string]any
			if code != ExitOK || json.Unmarshal([]byte(js), &v) != nil || v["enrollment_token"] != tc.wantJSON {
				t.Fatalf("json: exit %d\nstdout: %s\nstderr: %s", code, js, errOut)
			}
			if strings.Contains(out+js+errOut, tok) {
				t.Fatal("the token was printed")
			}
		})
	}
}

// The service definition is readable by every user: install refuses to put
// the token in it, before touching the service manager.
func TestServiceInstallRefusesTokenFlag(t *testing.T) {
	tok, err := licensekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runInProcess(t, nil, "service", "install", "--enrollment-token", tok)
	if code != ExitUsage || !strings.Contains(errOut, config.EnvEnrollment) || strings.Contains(out+errOut, tok) {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

// On macOS kardianos/service uses the service name as the launchd Label, so
// it must be the packaged LaunchDaemon's; elsewhere the packages register
// entitle-agent (the MSI's ServiceInstall row, the systemd alias).
func TestServiceNameMatchesPackages(t *testing.T) {
	plist, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "installer", "macos", launchdServiceName+".plist"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<key>Label</key>\s*<string>([^<]*)</string>`).FindSubmatch(plist)
	if m == nil || string(m[1]) != launchdServiceName {
		t.Fatalf("the LaunchDaemon's Label is %q, want %q", m, launchdServiceName)
	}
	want := defaultServiceName
	if runtime.GOOS == "darwin" {
		want = launchdServiceName
	}
	if ServiceName != want || defaultServiceName != "entitle-agent" {
		t.Fatalf("ServiceName %q on %s, want %q", ServiceName, runtime.GOOS, want)
	}
}
