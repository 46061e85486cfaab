package e2e

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/agent/cli"
	"github.com/entitle/entitle/pkg/licensekey"
)

// cliLang runs an entitle command against agent a with extra environment
// variables (the locale) and returns stdout, stderr and the exit code.
func (a *agent) cliLang(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	full := append([]string{}, args...)
	full = append(full, "--listen", a.addr)
	full = append(full, a.w.agentFlags(a.stateDir)...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.w.agentBin, full...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// TestCLIInFrench: with LANG=fr_FR.UTF-8 and nothing configured, the real
// binary speaks French for status, activation errors and deactivation; an
// explicit choice (--lang, ENTITLE_LANG) and LC_ALL=C win over it.
func TestCLIInFrench(t *testing.T) {
	w := newWorld(t)
	a := w.startAgent(filepath.Join(t.TempDir(), "state"))
	fr := []string{"LANG=fr_FR.UTF-8"}
	expect := func(t *testing.T, what, got string, code, wantCode int, want ...string) {
		t.Helper()
		if code != wantCode {
			t.Fatalf("%s: exit %d, want %d\n%s", what, code, wantCode, got)
		}
		for _, s := range want {
			if !strings.Contains(got, s) {
				t.Fatalf("%s: %q not in\n%s", what, s, got)
			}
		}
	}

	out, _, code := a.cliLang(t, fr, "", "status")
	expect(t, "status", out, code, 3, "Non activé — ce poste n’est pas activé")

	unknown, err := licensekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	_, errOut, code := a.cliLang(t, fr, "", "activate", "--license-key", unknown)
	expect(t, "activation with an unknown key", errOut, code, 1, "entitle\u00a0: le serveur de licences a refusé\u00a0: ")

	_, errOut, code = a.cliLang(t, fr, "", "activate", "--email", w.email)
	expect(t, "password without a terminal", errOut, code, 2, "l’entrée standard n’est pas un terminal\u00a0: passez le mot de passe")

	out, _, code = a.cliLang(t, fr, "", "activate", "--license-key", w.key)
	expect(t, "activation", out, code, 0, "Actif — formule ")
	if strings.Contains(out, "T0") || strings.Contains(out, "Z") && strings.Contains(out, ":00Z") {
		t.Fatalf("raw RFC 3339 time in %q", out)
	}

	out, _, code = a.cliLang(t, fr, "", "status")
	expect(t, "status when active", out, code, 0, "Actif — formule ", "Compte\u00a0: "+w.email, "Dernière synchronisation\u00a0: ")

	_, errOut, code = a.cliLang(t, fr, "", "deactivate")
	expect(t, "deactivate without a terminal", errOut, code, 2, "l’entrée standard n’est pas un terminal\u00a0: ajoutez --yes pour désactiver")

	out, _, code = a.cliLang(t, fr, "", "deactivate", "--yes")
	expect(t, "deactivate", out, code, 0, "Poste désactivé. Non activé — ce poste n’est pas activé")

	// Explicit choices and the POSIX order.
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"--lang en", fr, []string{"status", "--lang", "en"}, "Not activated — this computer is not activated"},
		{"ENTITLE_LANG=en", append([]string{"ENTITLE_LANG=en"}, fr...), []string{"status"}, "Not activated"},
		{"LC_ALL=C", append([]string{"LC_ALL=C"}, fr...), []string{"status"}, "Not activated"},
		{"LC_MESSAGES=fr", []string{"LANG=en_US.UTF-8", "LC_MESSAGES=fr_CA.UTF-8"}, []string{"status"}, "Non activé"},
		{"help", fr, []string{"status", "--help"}, "Indiquer si ce poste a une licence"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, _ := a.cliLang(t, tc.env, "", tc.args...)
			if !strings.Contains(out, tc.want) {
				t.Fatalf("%q not in\n%s", tc.want, out)
			}
		})
	}
}

// TestDeactivateNothingInFrench: deactivating a computer that is not
// activated says so in the reader's language instead of relaying the
// agent's English conflict message.
func TestDeactivateNothingInFrench(t *testing.T) {
	w := newWorld(t)
	a := w.startAgent(filepath.Join(t.TempDir(), "state"))
	_, errOut, code := a.cliLang(t, []string{"LANG=fr_FR.UTF-8"}, "", "deactivate", "--yes")
	if code != 1 || !strings.Contains(errOut, "ce poste n’est pas activé\u00a0: il n’y a rien à désactiver") || strings.Contains(errOut, "conflict") {
		t.Fatalf("exit %d: %q", code, errOut)
	}
}

// TestDeactivateAnsweredNo: at a terminal, answering no (in either
// language) leaves the computer activated and exits 0: it is an answer, not
// an error (issue 13 item 20).
func TestDeactivateAnsweredNo(t *testing.T) {
	w := newWorld(t)
	a := w.startAgent(filepath.Join(t.TempDir(), "state"))
	if _, err := a.cli("", "activate", "--license-key", w.key); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, answer, want string }{
		{"en", "n\n", "Not deactivated."},
		{"en", "\n", "Not deactivated."},
		{"fr", "non\n", "Poste non désactivé."},
	} {
		var out, errb bytes.Buffer
		args := append([]string{"deactivate", "--lang", tc.lang, "--listen", a.addr}, w.agentFlags(a.stateDir)...)
		code := cli.Run(context.Background(), args, cli.Env{
			Stdin: strings.NewReader(tc.answer), Stdout: &out, Stderr: &errb,
			LookupEnv:  func(string) (string, bool) { return "", false },
			IsTerminal: func(any) bool { return true }, // the question is asked
		})
		if code != 0 || !strings.Contains(out.String(), tc.want) {
			t.Fatalf("%s %q: exit %d, out %q, err %q", tc.lang, tc.answer, code, out.String(), errb.String())
		}
		if st := a.status(); !st.Activated || !st.Entitlement.Entitled {
			t.Fatalf("deactivated after %q: %+v", tc.answer, st.Entitlement)
		}
	}
}

// TestActivateTwiceAndCheckInactive: activating an activated computer and
// checking in an inactive one are refused in the reader's words.
func TestActivateTwiceAndCheckInactive(t *testing.T) {
	w := newWorld(t)
	a := w.startAgent(filepath.Join(t.TempDir(), "state"))
	fr := []string{"LANG=fr_FR.UTF-8"}
	_, errOut, code := a.cliLang(t, fr, "", "check")
	if code != 1 || !strings.Contains(errOut, "ce poste n’est pas activé\u00a0: activez-le d’abord") {
		t.Fatalf("check when inactive: exit %d %q", code, errOut)
	}
	if _, err := a.cli("", "activate", "--license-key", w.key); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = a.cliLang(t, fr, "", "activate", "--license-key", w.key)
	if code != 1 || !strings.Contains(errOut, "ce poste est déjà activé (Actif — formule ") {
		t.Fatalf("second activation: exit %d %q", code, errOut)
	}
}
