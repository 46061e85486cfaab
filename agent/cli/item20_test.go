package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
)

func noEnv(string) (string, bool) { return "", false }

// TestActivateAsksPassword: --email without --password-stdin asks at the
// terminal (no echo is ReadSecret's job: golang.org/x/term); without a
// terminal it is a usage error that names the flag to use.
func TestActivateAsksPassword(t *testing.T) {
	var prompts []string
	env := Env{loc: testLoc(i18n.English), ReadSecret: func(p string) (string, error) { prompts = append(prompts, p); return "s3cret", nil }}
	req, err := activateRequest(activateOptions{email: "ann@example.com"}, env)
	if err != nil || req.Method != agentapi.ActivatePassword || req.Password != "s3cret" || len(prompts) != 1 || !strings.Contains(prompts[0], "ann@example.com") {
		t.Fatalf("request %+v, err %v, prompts %q", req, err, prompts)
	}
	env.ReadSecret = func(string) (string, error) { return "", errNotTerminal }
	_, err = activateRequest(activateOptions{email: "ann@example.com"}, env)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != ExitUsage || !strings.Contains(err.Error(), "--password-stdin") {
		t.Fatalf("no terminal: %v", err)
	}
	env.ReadSecret = func(string) (string, error) { return "", nil }
	if _, err = activateRequest(activateOptions{email: "ann@example.com"}, env); err == nil {
		t.Fatal("empty password accepted")
	}
	// The real terminal reader refuses a stdin that is not a terminal.
	if _, err := terminalSecret(Env{Stdin: strings.NewReader("x\n"), Stderr: &bytes.Buffer{}})("p"); !errors.Is(err, errNotTerminal) {
		t.Fatalf("terminalSecret on a pipe: %v", err)
	}
}

// TestConfirmAnswers: only a yes of the reader's language confirms (the
// "no" path through the real agent is agent/e2e TestDeactivateAnsweredNo).
func TestConfirmAnswers(t *testing.T) {
	loc := testLoc(i18n.French)
	for answer, want := range map[string]bool{"o\n": true, "oui\n": true, "y\n": true, "n\n": false, "\n": false, "ok\n": false} {
		if got := confirmed(loc, strings.NewReader(answer)); got != want {
			t.Errorf("French answer %q: %v", answer, got)
		}
	}
}

// TestNoTerminalExitCodes: a question or a password without a terminal
// exits 2 in every command that asks.
func TestNoTerminalExitCodes(t *testing.T) {
	for _, args := range [][]string{
		{"deactivate"},
		{"activate", "--email", "ann@example.com"},
	} {
		var out, errb bytes.Buffer
		code := Run(context.Background(), append(args, "--listen", "127.0.0.1:9", "--state-dir", t.TempDir()), Env{
			Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, LookupEnv: noEnv,
		})
		if code != ExitUsage || !strings.Contains(errb.String(), "not a terminal") {
			t.Errorf("%v: exit %d, %q", args, code, errb.String())
		}
	}
}

// TestConfigFileErrors: a configuration file that does not parse is named
// with its line, in the reader's language, without the TOML library's words.
func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body, lang string
		want             []string
	}{
		{"syntax", "listen = \"127.0.0.1:7343\"\nserver_url = https://x\n", "en", []string{"agent.toml, line 2", "the value of “server_url” is not valid here"}},
		{"syntax without key", "listen = \"127.0.0.1:7343\"\n[[[\n", "en", []string{"agent.toml, line 2", "not valid TOML"}},
		{"type", "expiring_days = \"ten\"\n", "en", []string{"line 1", "“expiring_days”"}},
		{"unknown", "listen_addr = \"x\"\n", "en", []string{"unknown setting \"listen_addr\""}},
		{"syntax fr", "server_url = https://x\n", "fr", []string{"ligne 1\u00a0: la valeur de «\u00a0server_url\u00a0» n’est pas valide ici"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "agent.toml")
			if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			code := Run(context.Background(), []string{"config", "show", "--config", path, "--lang", tc.lang}, Env{Stdout: &out, Stderr: &errb, LookupEnv: noEnv})
			msg := errb.String()
			if code != ExitUsage || strings.Contains(msg, "toml: line") || strings.Contains(msg, "last key") || strings.Contains(msg, "incompatible types") || strings.Contains(msg, "expected") {
				t.Fatalf("exit %d: %q", code, msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Fatalf("%q not in %q", w, msg)
				}
			}
		})
	}
}

// TestUsageErrorsWorded: argument errors name the option or command in the
// reader's language, and stay usage errors (exit 2).
func TestUsageErrorsWorded(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"status", "--frob", "--lang", "fr"}, "option inconnue\u00a0: --frob"},
		{[]string{"status", "-Z", "--lang", "en"}, "unknown option -Z"},
		{[]string{"frobnicate", "--lang", "fr"}, "commande inconnue «\u00a0frobnicate\u00a0» pour «\u00a0entitle\u00a0»"},
		{[]string{"status", "--lang", "fr", "--listen"}, "l’option --listen demande une valeur"},
		{[]string{"deactivate", "--yes=maybe", "--lang", "en"}, "“maybe” is not a valid value for --yes"},
	} {
		var out, errb bytes.Buffer
		code := Run(context.Background(), tc.args, Env{Stdout: &out, Stderr: &errb, LookupEnv: noEnv})
		if code != ExitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, %q", tc.args, code, errb.String())
		}
	}
}
