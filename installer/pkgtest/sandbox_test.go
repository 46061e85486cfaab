package pkgtest

import (
	"bufio"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
)

// sandbox is a throwaway copy of this computer (testdata/sandbox.sh): an
// overlay over / in a private mount namespace, entered with nsenter + chroot.
// Whatever the tests install there never reaches the host.
type sandbox struct {
	t    *testing.T
	pid  int
	root string // the overlay, as seen inside the namespace
}

// newSandbox starts a sandbox with pkgDir mounted read-only at /pkgs.
func newSandbox(t *testing.T, pkgDir string) *sandbox {
	t.Helper()
	testenv.RequireRoot(t)
	for _, tool := range []string{"unshare", "nsenter", "chroot"} {
		testenv.LookPath(t, tool)
	}
	base := t.TempDir()
	script := filepath.Join(testenv.RepoRoot(t), "installer", "pkgtest", "testdata", "sandbox.sh")
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", script, base, pkgDir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line == "ready\n"
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("sandbox did not start: %s", stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("sandbox did not start within 30s: %s", stderr.String())
	}
	return &sandbox{t: t, pid: cmd.Process.Pid, root: filepath.Join(base, "root")}
}

// sh runs a bash script as root inside the sandbox with a clean environment
// and returns its combined output.
func (s *sandbox) sh(script string) (string, error) {
	cmd := exec.Command("nsenter", "--mount", fmt.Sprintf("--target=%d", s.pid), "--",
		"chroot", s.root, "/usr/bin/env", "-i",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive",
		"/bin/bash", "-euo", "pipefail", "-c", script)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustSh is sh that fails the test when the script fails.
func (s *sandbox) mustSh(script string) string {
	s.t.Helper()
	out, err := s.sh(script)
	if err != nil {
		s.t.Fatalf("in sandbox: %s: %v\n%s", script, err, out)
	}
	return out
}

// stat describes path as "mode owner group type", or "absent".
func (s *sandbox) stat(path string) string {
	s.t.Helper()
	return strings.TrimSpace(s.mustSh(fmt.Sprintf(`stat -c '%%a %%U %%G %%F' %q 2>/dev/null || echo absent`, path)))
}

// systemctlShim replaces systemctl with a script that logs its arguments, one
// call a line, to /run/systemctl.log (systemd is not PID 1 here). With
// running, /run/systemd/system exists, so the maintainer scripts believe
// systemd runs.
func (s *sandbox) systemctlShim(running bool) {
	s.t.Helper()
	script := "printf '#!/bin/sh\\necho \"$*\" >>/run/systemctl.log\\n' >/usr/bin/systemctl\n" +
		"chmod 0755 /usr/bin/systemctl\n: >/run/systemctl.log\n"
	if running {
		script += "mkdir -p /run/systemd/system\n"
	}
	s.mustSh(script)
}

// systemctlCalls returns and clears the calls the shim logged.
func (s *sandbox) systemctlCalls() []string {
	s.t.Helper()
	out := strings.TrimSpace(s.mustSh("cat /run/systemctl.log; : >/run/systemctl.log"))
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}
