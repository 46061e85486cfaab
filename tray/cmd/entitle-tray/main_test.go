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
	tests := []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		{[]string{"--version"}, 0, "entitle-tray " + version.Version + " (" + runtime.Version(), ""},
		{[]string{"--help"}, 0, "--state-dir", ""},
		{[]string{"-listen", "127.0.0.1:7343"}, 2, "", "unknown shorthand flag"},
		{[]string{"--agent-url", "http://127.0.0.1:7343"}, 2, "", "unknown flag: --agent-url"},
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
