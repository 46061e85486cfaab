package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/testenv"
)

// binary builds the entitle command once per test binary run.
func binary(t *testing.T) string {
	t.Helper()
	return testenv.BuildBinary(t, "./agent/cmd/entitle")
}

func randomKey(t *testing.T) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

type agentProc struct {
	bin, addr, stateDir string
	cmd                 *exec.Cmd
	stderr              *testenv.Buffer
}

// startAgent runs `entitle service run` on a fresh state folder with an
// unreachable licensing server.
func startAgent(t *testing.T, bin string) *agentProc {
	t.Helper()
	dir := t.TempDir()
	a := &agentProc{bin: bin, stateDir: filepath.Join(dir, "state"), stderr: &testenv.Buffer{}}
	addrFile := filepath.Join(dir, "addr")
	a.cmd = exec.Command(bin, "service", "run", "--listen", "127.0.0.1:0", "--state-dir", a.stateDir,
		"--profile-dir", filepath.Join(dir, "profiles"), "--server-url", "http://127.0.0.1:9",
		"--pinned-key", randomKey(t), "--addr-file", addrFile, "--log-format", "json")
	a.cmd.Stderr = a.stderr
	a.cmd.Env = append(os.Environ(), "ENTITLE_CONFIG=")
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if a.cmd.ProcessState == nil {
			_ = a.cmd.Process.Kill()
			_ = a.cmd.Wait()
		}
	})
	a.addr = testenv.ReadAddrFile(t, addrFile, 60*time.Second)
	return a
}

// run runs the CLI against the agent and returns stdout, stderr and the exit code.
func (a *agentProc) run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	args = append(args, "--listen", a.addr, "--state-dir", a.stateDir)
	return runBin(t, a.bin, stdin, args...)
}

func runBin(t *testing.T, bin, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "ENTITLE_CONFIG=", "LANG=C", "LC_ALL=", "LC_MESSAGES=", "ENTITLE_LANG=")
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestUsageAndExitCodes(t *testing.T) {
	bin := binary(t)
	dead := "127.0.0.1:9" // nothing listens on the discard port
	stateDir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want int
		out  string
	}{
		{"help", []string{"--help"}, 0, "Exit codes"},
		{"version", []string{"version"}, 0, "entitle "},
		{"version json", []string{"version", "--json"}, 0, `"version"`},
		{"unknown command", []string{"frobnicate"}, 2, ""},
		{"unknown flag", []string{"status", "--frob"}, 2, ""},
		{"extra argument", []string{"status", "x"}, 2, ""},
		{"bad listen", []string{"status", "--listen", "0.0.0.0:7343"}, 2, ""},
		{"key and email", []string{"activate", "--license-key", "K", "--email", "a@b.c"}, 2, ""},
		{"email without password", []string{"activate", "--email", "a@b.c"}, 2, ""},
		{"agent not running", []string{"status", "--listen", dead, "--state-dir", stateDir}, 4, ""},
		{"check without agent", []string{"check", "--listen", dead, "--state-dir", stateDir}, 4, ""},
		{"config show", []string{"config", "show", "--state-dir", stateDir}, 0, "state_dir       = " + stateDir},
		{"config show json", []string{"config", "show", "--json"}, 0, `"listen": "127.0.0.1:7343"`},
		{"service unknown", []string{"service", "frob"}, 2, ""},
		{"service status json", []string{"service", "status", "--json"}, 0, `"name": "entitle-agent"`},
		{"deactivate not a terminal", []string{"deactivate", "--listen", dead}, 2, ""},
		{"profiles without agent", []string{"profiles", "list", "--listen", dead, "--state-dir", stateDir}, 4, ""},
		{"migrate import of a missing file", []string{"migrate", "import", filepath.Join(stateDir, "none.age"), "--listen", dead, "--state-dir", stateDir}, 1, ""},
		{"migrate export without --out", []string{"migrate", "export"}, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runBin(t, bin, "", tc.args...)
			if code != tc.want || !strings.Contains(out, tc.out) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.want, out, errOut)
			}
		})
	}
}

func TestAgainstRunningAgent(t *testing.T) {
	a := startAgent(t, binary(t))

	out, _, code := a.run(t, "", "status")
	if code != ExitNotEntitled || !strings.HasPrefix(out, "Not activated") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	out, _, code = a.run(t, "", "status", "--json")
	var st agentapi.Status
	if code != ExitNotEntitled || json.Unmarshal([]byte(out), &st) != nil || st.Entitlement.State != agentapi.StateInactive {
		t.Fatalf("status --json: exit %d\n%s", code, out)
	}
	// Without a readable token, status falls back to the public answer.
	out, _, code = runBin(t, a.bin, "", "status", "--listen", a.addr, "--state-dir", t.TempDir())
	if code != ExitNotEntitled || !strings.Contains(out, "details need the API token") {
		t.Fatalf("status without token: exit %d\n%s", code, out)
	}
	// Activation needs the (unreachable) licensing server.
	key, err := licensekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	_, errOut, code := a.run(t, "", "activate", "--license-key", key)
	if code != ExitError || !strings.Contains(errOut, "licensing server cannot be reached at http://") {
		t.Fatalf("activate: exit %d\n%s", code, errOut)
	}
	_, errOut, code = a.run(t, "secret-pw\n", "activate", "--email", "a@b.example", "--password-stdin")
	if code != ExitError || strings.Contains(errOut+a.stderr.String(), "secret-pw") {
		t.Fatalf("activate with password: exit %d\n%s", code, errOut)
	}
	_, errOut, code = a.run(t, "", "check")
	if code != ExitError {
		t.Fatalf("check on an inactive agent: exit %d\n%s", code, errOut)
	}
	_, _, code = a.run(t, "", "deactivate")
	if code != ExitUsage {
		t.Fatalf("deactivate without --yes and no terminal: exit %d", code)
	}

	// SIGTERM stops the agent cleanly with exit 0.
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("agent exit after SIGTERM: %v\n%s", err, a.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not stop on SIGTERM")
	}
	if strings.Contains(a.stderr.String(), "secret-pw") || strings.Contains(a.stderr.String(), key) {
		t.Fatalf("a secret reached the agent's log:\n%s", a.stderr)
	}
	var info os.FileInfo
	info, err = os.Stat(filepath.Join(a.stateDir, agentapi.TokenFile))
	if err != nil || info.Mode().Perm() != 0o640 {
		t.Fatalf("token file: %v %v", info, err)
	}
}

func TestHeadline(t *testing.T) {
	d := time.Date(2027, 3, 1, 12, 0, 0, 0, time.Local)
	stamp := d.UTC().Format(time.RFC3339)
	en, fr := testLoc(i18n.English), testLoc(i18n.French)
	for _, tc := range []struct {
		e      agentapi.Entitlement
		wantEn string
		wantFr string
	}{
		{agentapi.Entitlement{Entitled: true, State: agentapi.StateActive, Plan: "pro", TermEnd: &d, ReasonCode: agentapi.ReasonLicensed, ReasonArgs: agentapi.ReasonArgs{"plan": "pro", "term_end": stamp}},
			"Active — Pro plan, licensed until March 1, 2027", "Actif — formule Pro, licence valable jusqu’au 1er mars 2027"},
		{agentapi.Entitlement{State: agentapi.StateInactive, Reason: "this computer is not activated", ReasonCode: agentapi.ReasonNotActivated},
			"Not activated — this computer is not activated", "Non activé — ce poste n’est pas activé"},
		{agentapi.Entitlement{State: "weird", Reason: "from a newer agent", ReasonCode: "weird_code"}, "weird — from a newer agent", "weird — from a newer agent"},
		{agentapi.Entitlement{State: "weird"}, "weird", "weird"},
	} {
		if got := headline(en, tc.e); got != tc.wantEn {
			t.Errorf("headline = %q, want %q", got, tc.wantEn)
		}
		if got := headline(fr, tc.e); got != tc.wantFr {
			t.Errorf("French headline = %q, want %q", got, tc.wantFr)
		}
	}
}

func testLoc(tag language.Tag) *i18n.Localizer { return i18n.New().Localizer(tag) }

func TestActivateRequest(t *testing.T) {
	key, err := licensekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	// One symbol changed: the check symbol no longer matches.
	typo := []byte(key)
	if typo[0] == '0' {
		typo[0] = '1'
	} else {
		typo[0] = '0'
	}
	for _, tc := range []struct {
		name  string
		o     activateOptions
		stdin string
		want  agentapi.ActivateRequest
		ok    bool
	}{
		{"browser", activateOptions{}, "", agentapi.ActivateRequest{Method: agentapi.ActivateBrowser}, true},
		{"key", activateOptions{licenseKey: " " + strings.ToLower(strings.ReplaceAll(key, "-", " ")) + " "}, "", agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: key}, true},
		{"not a key", activateOptions{licenseKey: "K-1"}, "", agentapi.ActivateRequest{}, false},
		{"mistyped key", activateOptions{licenseKey: string(typo)}, "", agentapi.ActivateRequest{}, false},
		{"not an email", activateOptions{email: "ann", passwordStdin: true}, "pw\n", agentapi.ActivateRequest{}, false},
		{"password", activateOptions{email: "a@b.c", passwordStdin: true}, "pw word\r\nrest", agentapi.ActivateRequest{Method: agentapi.ActivatePassword, Email: "a@b.c", Password: "pw word"}, true},
		{"empty password", activateOptions{email: "a@b.c", passwordStdin: true}, "\n", agentapi.ActivateRequest{}, false},
		{"long password", activateOptions{email: "a@b.c", passwordStdin: true}, strings.Repeat("x", 2000), agentapi.ActivateRequest{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := activateRequest(tc.o, Env{Stdin: strings.NewReader(tc.stdin), loc: testLoc(i18n.English)})
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

func TestRunInProcessStopsOnCancel(t *testing.T) {
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	dir := t.TempDir()
	code := Run(ctx, []string{"service", "run", "--listen", "127.0.0.1:0", "--state-dir", dir, "--profile-dir", dir,
		"--pinned-key", randomKey(t), "--server-url", "http://127.0.0.1:9"}, Env{Stdout: &out, Stderr: &errb, LookupEnv: func(string) (string, bool) { return "", false }})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}
