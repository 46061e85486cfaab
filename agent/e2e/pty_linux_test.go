//go:build linux

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the test holds the controller, the
// command gets the terminal.
func openPTY(t *testing.T) (controller, term *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	controller = os.NewFile(uintptr(fd), "/dev/ptmx")
	term, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pts: %v", err)
	}
	t.Cleanup(func() { controller.Close(); term.Close() })
	return controller, term
}

// syncBuffer collects what the command writes to its terminal.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestActivatePasswordAtTerminal: `entitle activate --email` at a real
// terminal asks for the password without echoing it, and activates (issue 13
// item 20); in French with LANG=fr_FR.UTF-8.
func TestActivatePasswordAtTerminal(t *testing.T) {
	w := newWorld(t)
	a := w.startAgent(filepath.Join(t.TempDir(), "state"))
	controller, term := openPTY(t)
	args := append([]string{"activate", "--email", w.email, "--listen", a.addr}, w.agentFlags(a.stateDir)...)
	cmd := exec.Command(w.agentBin, args...)
	cmd.Env = append(cleanEnv(), "LANG=fr_FR.UTF-8")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term, term, term
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	term.Close() // the child holds it now
	var out syncBuffer
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		buf := make([]byte, 4096)
		for {
			n, err := controller.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "Mot de passe de "+w.email+"\u00a0: ") {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no password prompt; the terminal shows %q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := controller.Write([]byte(w.password + "\r")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("activate: %v; the terminal shows %q", err, out.String())
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("activate did not finish; the terminal shows %q", out.String())
	}
	controller.Close()
	<-copied
	shown := out.String()
	if strings.Contains(shown, w.password) {
		t.Fatalf("the password was echoed: %q", shown)
	}
	if !strings.Contains(shown, "Actif — formule ") {
		t.Fatalf("no French active status: %q", shown)
	}
	if st := a.status(); !st.Entitlement.Entitled {
		t.Fatalf("not entitled after activation: %+v", st.Entitlement)
	}
}
