package svc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
)

const childEnv = "ENTITLE_SVC_TEST_CHILD"

// TestChild is the body of the re-executed test binary; it does nothing in
// a normal run.
func TestChild(t *testing.T) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		return
	}
	run := func(ctx context.Context) error {
		fmt.Println("started")
		if mode == "fail" {
			return errors.New("port already in use")
		}
		<-ctx.Done()
		fmt.Println("stopped cleanly")
		return nil
	}
	s, err := New("entitle-svc-test", "Entitle test", "test service", []string{"service", "run", "--flag"}, run)
	if err != nil {
		fmt.Println("new:", err)
		os.Exit(2)
	}
	switch mode {
	case "run", "fail":
		if err := s.Run(); err != nil {
			fmt.Println("run error:", err)
			os.Exit(3)
		}
	case "install":
		installCycle(s)
	}
	os.Exit(0)
}

func installCycle(s *Service) {
	check := func(what string, err error) {
		if err != nil {
			fmt.Println(what+":", err)
			os.Exit(4)
		}
	}
	fmt.Println("platform", s.Platform())
	st, err := s.Status()
	check("status before", err)
	fmt.Println("before:", st)
	check("install", s.Control("install"))
	script, err := os.ReadFile("/etc/init.d/entitle-svc-test")
	check("read script", err)
	if !strings.Contains(string(script), "run") && strings.Contains(string(script), "--flag") {
		fmt.Println("script lacks the arguments")
		os.Exit(5)
	}
	fmt.Println("installed")
	if err := s.Control("install"); err == nil {
		fmt.Println("second install succeeded")
		os.Exit(6)
	}
	check("uninstall", s.Control("uninstall"))
	if _, err := os.Stat("/etc/init.d/entitle-svc-test"); !os.IsNotExist(err) {
		fmt.Println("script left behind")
		os.Exit(7)
	}
	fmt.Println("uninstalled")
}

func child(t *testing.T, mode string, wrap ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := append(wrap, exe, "-test.run=^TestChild$", "-test.v=false")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	return cmd
}

func TestForegroundStopsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := child(t, "run")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(out)
			if !sc.Scan() || sc.Text() != "started" {
				t.Fatalf("child did not start: %q", sc.Text())
			}
			time.Sleep(50 * time.Millisecond) // let the signal handler settle
			cmd.Process.Signal(sig)
			var rest []string
			for sc.Scan() {
				rest = append(rest, sc.Text())
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit: %v (%v)", err, rest)
			}
			if !strings.Contains(strings.Join(rest, "\n"), "stopped cleanly") {
				t.Fatalf("body not stopped through its context: %v", rest)
			}
		})
	}
}

func TestForegroundReturnsBodyError(t *testing.T) {
	out, err := child(t, "fail").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(string(out), "port already in use") {
		t.Fatalf("got %v: %s", err, out)
	}
}

// Under a service manager, Start/Stop drive the body and RunWait returns
// when the body fails on its own.
func TestProgram(t *testing.T) {
	t.Run("stop", func(t *testing.T) {
		stopped := make(chan struct{})
		p := &program{run: func(ctx context.Context) error { <-ctx.Done(); close(stopped); return nil }, log: discard()}
		if err := p.Start(nil); err != nil {
			t.Fatal(err)
		}
		if err := p.Start(nil); err == nil {
			t.Fatal("double start accepted")
		}
		if err := p.Stop(nil); err != nil {
			t.Fatal(err)
		}
		select {
		case <-stopped:
		default:
			t.Fatal("Stop returned before the body ended")
		}
		if p.result() != nil {
			t.Fatal(p.result())
		}
	})
	t.Run("early failure", func(t *testing.T) {
		boom := errors.New("boom")
		p := &program{run: func(ctx context.Context) error { return boom }, log: discard()}
		if err := p.Start(nil); err != nil {
			t.Fatal(err)
		}
		waited := make(chan struct{})
		go func() { p.wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
			t.Fatal("RunWait did not return after the body failed")
		}
		if !errors.Is(p.result(), boom) {
			t.Fatalf("result %v", p.result())
		}
		if err := p.Stop(nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestControlRejectsUnknownAction(t *testing.T) {
	s, err := New("entitle-svc-test", "x", "y", nil, func(context.Context) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Control("explode"); err == nil {
		t.Fatal("unknown action accepted")
	}
	if _, err := New("", "x", "y", nil, nil); err == nil {
		t.Fatal("empty name accepted")
	}
}

// Install and uninstall for real (SysV here), inside a private mount
// namespace whose /etc/init.d and /etc/rc?.d are empty tmpfs mounts, so the
// host is untouched.
func TestInstallUninstallSysV(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.LookPath(t, "unshare")
	rc, _ := filepath.Glob("/etc/rc?.d")
	script := "mount --make-rprivate / && mount -t tmpfs tmpfs /etc/init.d"
	for _, d := range rc {
		script += " && mount -t tmpfs tmpfs " + d
	}
	script += ` && exec "$@"`
	cmd := child(t, "install", "unshare", "-m", "sh", "-c", script, "sh")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, want := range []string{"before: not installed", "installed", "uninstalled"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("missing %q in: %s", want, out)
		}
	}
	if _, err := os.Stat("/etc/init.d/entitle-svc-test"); !os.IsNotExist(err) {
		t.Fatal("the host's /etc/init.d was touched")
	}
}
