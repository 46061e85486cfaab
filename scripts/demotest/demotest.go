// Package demotest runs scripts/run-demo.sh (`make run`) for tests: the real
// licensing server and agent on free loopback ports, in a temporary folder.
package demotest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
)

// Ready and ReadyFr are the line run-demo.sh prints once the demo is up, in
// English and in French.
const (
	Ready   = "Press Ctrl-C to stop."
	ReadyFr = "Appuyez sur Ctrl-C pour arrêter."
)

// Bin builds entitle and entitle-server into one folder, as `make build`
// does into bin/, and returns it.
func Bin(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, pkg := range []string{"./agent/cmd/entitle", "./server/cmd/entitle-server"} {
		p := testenv.BuildBinary(t, pkg)
		if err := os.Rename(p, filepath.Join(dir, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// FreePort returns a loopback TCP port nothing listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Demo is one run of run-demo.sh.
type Demo struct {
	ServerPort, AgentPort int
	Dir                   string // ENTITLE_RUN_DIR
	Stdout, Stderr        *testenv.Buffer
	cmd                   *exec.Cmd
	done                  chan struct{}
	err                   error
}

// Start runs scripts/run-demo.sh with the programs of bin, in a new
// process group that the test's cleanup stops. env adds variables; ports
// are ENTITLE_RUN_SERVER_PORT and ENTITLE_RUN_AGENT_PORT (0: a free one).
// The machine's locale is left out (the demo speaks English unless env sets
// LANG or ENTITLE_LANG).
func Start(t testing.TB, bin string, serverPort, agentPort int, env ...string) *Demo {
	t.Helper()
	if serverPort == 0 {
		serverPort = FreePort(t)
	}
	if agentPort == 0 {
		agentPort = FreePort(t)
	}
	d := &Demo{
		ServerPort: serverPort, AgentPort: agentPort, Dir: t.TempDir(),
		Stdout: &testenv.Buffer{}, Stderr: &testenv.Buffer{}, done: make(chan struct{}),
	}
	d.cmd = exec.Command(filepath.Join(testenv.RepoRoot(t), "scripts", "run-demo.sh"))
	var base []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "ENTITLE_") && k != "LANG" && !strings.HasPrefix(k, "LC_") {
			base = append(base, kv)
		}
	}
	d.cmd.Env = append(base,
		"ENTITLE_RUN_BIN="+bin, "ENTITLE_RUN_DIR="+d.Dir, "ENTITLE_RUN_TIMEOUT=60",
		"ENTITLE_RUN_SERVER_PORT="+strconv.Itoa(serverPort), "ENTITLE_RUN_AGENT_PORT="+strconv.Itoa(agentPort))
	d.cmd.Env = append(d.cmd.Env, env...)
	d.cmd.Stdout, d.cmd.Stderr = d.Stdout, d.Stderr
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("run-demo.sh: %v", err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		// SIGTERM to the script: its trap stops the server and the agent.
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
			<-d.done
		}
	})
	return d
}

// WaitReady waits until the demo prints Ready; it fails if the script exits
// first or takes longer than timeout.
func (d *Demo) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for out := ""; !strings.Contains(out, Ready) && !strings.Contains(out, ReadyFr); out = d.Stdout.String() {
		select {
		case <-d.done:
			t.Fatalf("run-demo.sh exited (%v) before it was ready\nstdout:\n%s\nstderr:\n%s", d.err, d.Stdout, d.Stderr)
		case <-deadline:
			t.Fatalf("run-demo.sh not ready after %s\nstdout:\n%s\nstderr:\n%s", timeout, d.Stdout, d.Stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WaitExit waits for the script to exit and returns its exit status.
func (d *Demo) WaitExit(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-d.done:
	case <-time.After(timeout):
		t.Fatalf("run-demo.sh still running after %s\nstdout:\n%s\nstderr:\n%s", timeout, d.Stdout, d.Stderr)
	}
	return d.cmd.ProcessState.ExitCode()
}

// URL is the agent's local API base URL.
func (d *Demo) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", d.AgentPort) }
