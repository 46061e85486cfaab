package e2e

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
)

// Issue 13, item 2, with the real binary: a freshly installed agent without
// pinned keys used to exit at once ("engine: no pinned server keys") and
// crash-loop under systemd. It must start, stay up, answer not_configured,
// and `entitle config show` must say what is missing.
func TestAgentStartsNotConfigured(t *testing.T) {
	bin := testenv.BuildBinary(t, "./agent/cmd/entitle")
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	addrFile := filepath.Join(dir, "agent.addr")
	flags := []string{"--state-dir", stateDir, "--profile-dir", filepath.Join(dir, "profiles"), "--server-url", "http://127.0.0.1:1"}
	p := start(t, "agent", append([]string{bin, "service", "run", "--listen", "127.0.0.1:0", "--addr-file", addrFile}, flags...)...)
	addr := testenv.ReadAddrFile(t, addrFile, 20*time.Second)

	out, _, err := execute(30*time.Second, "", append([]string{bin, "status", "--listen", addr}, flags...)...)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 || !strings.Contains(out, "Not configured") ||
		!strings.Contains(out, "pinned_keys") || !strings.Contains(out, "Missing settings: pinned_keys") {
		t.Fatalf("status: %v\n%s", err, out)
	}
	out, _, err = execute(30*time.Second, "", append([]string{bin, "status", "--json", "--listen", addr}, flags...)...)
	if !strings.Contains(out, `"state": "not_configured"`) || !strings.Contains(out, `"missing_config": [`) {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	out, _, err = execute(30*time.Second, "", append([]string{bin, "config", "show"}, flags...)...)
	if err != nil || !strings.Contains(out, "MISSING: pinned_keys") || !strings.Contains(out, "entitle-server keys show") {
		t.Fatalf("config show: %v\n%s", err, out)
	}
	out, _, err = execute(30*time.Second, "", append([]string{bin, "config", "show", "--json"}, flags...)...)
	if err != nil || !strings.Contains(out, `"missing": [`) || !strings.Contains(out, `"pinned_keys"`) {
		t.Fatalf("config show --json: %v\n%s", err, out)
	}
	select {
	case <-p.done:
		t.Fatalf("the agent exited: %v", p.err)
	case <-time.After(2 * time.Second):
	}
	p.stop(t)
}
