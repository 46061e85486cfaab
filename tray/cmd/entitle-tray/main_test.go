package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/version"
)

// TestFlags: the tray takes the CLI's flag style (pflag: --long, no
// single-dash long flags), the agent's own --config/--listen/--state-dir,
// and --version.
func TestFlags(t *testing.T) {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "ENTITLE_LANG"} {
		t.Setenv(name, "")
	}
	t.Setenv("LANG", "C.UTF-8")
	tests := []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		{[]string{"--version"}, 0, "entitle-tray " + version.Version + " (" + runtime.Version(), ""},
		{[]string{"--help"}, 0, "--state-dir", ""},
		{[]string{"-listen", "127.0.0.1:7343"}, 2, "", "unknown option -l"},
		{[]string{"--agent-url", "http://127.0.0.1:7343"}, 2, "", "unknown option --agent-url"},
		{[]string{"--listen", "0.0.0.0:7343", "--version"}, 0, "entitle-tray ", ""},
		{[]string{"--listen", "0.0.0.0:7343"}, 2, "", "loopback"},
		{[]string{"--help-url", "file:///etc/passwd"}, 2, "", "--help-url"},
		{[]string{"--log-level", "loud"}, 2, "", "--log-level"},
		{[]string{"--max-backoff", "1h"}, 2, "", "--max-backoff"},
		{[]string{"extra"}, 2, "", "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errs bytes.Buffer
			if code := run(tc.args, &out, &errs); code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errs.String())
			}
			if !strings.Contains(out.String(), tc.stdout) {
				t.Errorf("stdout %q lacks %q", out.String(), tc.stdout)
			}
			if !strings.Contains(errs.String(), tc.errs) {
				t.Errorf("stderr %q lacks %q", errs.String(), tc.errs)
			}
		})
	}
}

// TestFlagsFrench: with LANG=fr_FR.UTF-8 the help and the errors are French.
func TestFlagsFrench(t *testing.T) {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "ENTITLE_LANG", "ENTITLE_CONFIG"} {
		t.Setenv(name, "")
	}
	t.Setenv("LANG", "fr_FR.UTF-8")
	var out, errs bytes.Buffer
	if code := run([]string{"--help"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	for _, want := range []string{"Utilisation\u00a0:", "afficher la version et quitter", "dossier de l’état d’activation", "Codes de sortie\u00a0:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := run([]string{"--max-backoff", "1h"}, &out, &errs); code != 2 ||
		!strings.Contains(errs.String(), "entitle-tray\u00a0: --max-backoff doit être compris entre 1s et 1m") {
		t.Errorf("exit %d, stderr %q", code, errs.String())
	}
	errs.Reset()
	if code := run([]string{"--lang", "en", "extra"}, &out, &errs); code != 2 || !strings.Contains(errs.String(), "unexpected arguments: extra") {
		t.Errorf("--lang en: exit %d, stderr %q", code, errs.String())
	}
}
