// Package e2e tests the agent end to end with the real binaries: the
// licensing server (./server/cmd/entitle-server) and the agent and its
// command line (./agent/cmd/entitle), talking over loopback HTTP.
package e2e

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/testenv"
)

func TestAgentEndToEnd(t *testing.T) {
	w := newWorld(t)
	stateA := filepath.Join(t.TempDir(), "state")
	a := w.startAgent(stateA)

	t.Run("inactive at first", func(t *testing.T) {
		st := a.status()
		if st.Entitlement.Entitled || st.Entitlement.State != agentapi.StateInactive || st.Activated {
			t.Fatalf("fresh agent: %+v", st.Entitlement)
		}
	})

	t.Run("license key, then deactivate frees the seat", func(t *testing.T) {
		if _, err := a.cli("", "activate", "--license-key", strings.ToLower(w.key)); err != nil {
			t.Fatal(err)
		}
		st := a.status()
		if !st.Entitlement.Entitled || st.Entitlement.State != agentapi.StateActive || st.Entitlement.Lease == "" {
			t.Fatalf("after activation: %+v", st.Entitlement)
		}
		if n := w.seatsUsed(); n != 1 {
			t.Fatalf("%d seats used, want 1", n)
		}
		if _, err := a.cli("", "deactivate", "--yes"); err != nil {
			t.Fatal(err)
		}
		if st := a.status(); st.Entitlement.Entitled || st.Activated {
			t.Fatalf("after deactivation: %+v", st.Entitlement)
		}
		if n := w.seatsUsed(); n != 0 {
			t.Fatalf("%d seats used after deactivation, want 0", n)
		}
	})

	t.Run("email and password", func(t *testing.T) {
		if _, err := a.cli(w.password+"\n", "activate", "--email", w.email, "--password-stdin"); err != nil {
			t.Fatal(err)
		}
		if st := a.status(); !st.Entitlement.Entitled {
			t.Fatalf("after password activation: %+v", st.Entitlement)
		}
		if _, err := a.cli("", "deactivate", "--yes"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("browser sign-in", func(t *testing.T) {
		done := make(chan error, 1)
		go func() {
			_, err := a.cli("", "activate", "--no-browser")
			done <- err
		}()
		var code string
		testenv.WaitFor(t, 15*time.Second, "a pending sign-in", func() bool {
			if st := a.status(); st.Pending != nil {
				code = st.Pending.UserCode
			}
			return code != ""
		})
		w.approveInBrowser(code)
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("entitle activate did not finish after approval")
		}
		if st := a.waitState(10*time.Second, agentapi.StateActive); st.Account == "" {
			t.Fatalf("no account after browser sign-in: %+v", st)
		}
	})

	t.Run("a copy on another computer is foreign", func(t *testing.T) {
		testenv.RequireRoot(t)
		testenv.LookPath(t, "unshare")
		stateB := filepath.Join(t.TempDir(), "state")
		copyDir(t, stateA, stateB)
		idFile := filepath.Join(t.TempDir(), "machine-id")
		os.WriteFile(idFile, []byte("0123456789abcdef0123456789abcdef\n"), 0o444)
		script := `mount --make-rprivate / && mount --bind "$0" /etc/machine-id && ` +
			`{ [ ! -e /var/lib/dbus/machine-id ] || mount --bind "$0" /var/lib/dbus/machine-id; } && exec "$@"`
		b := w.startAgent(stateB, "unshare", "-m", "sh", "-c", script, idFile)
		st := b.status()
		if st.Entitlement.Entitled || st.Entitlement.State != agentapi.StateForeign ||
			st.Entitlement.ReasonCode != agentapi.ReasonForeignDevice {
			t.Fatalf("copied state: %+v", st.Entitlement)
		}
		b.p.stop(t)
		if st := a.status(); !st.Entitlement.Entitled {
			t.Fatalf("the original computer lost its entitlement: %+v", st.Entitlement)
		}
	})

	t.Run("offline until the lease expires, then recovers", func(t *testing.T) {
		a.waitState(10*time.Second, agentapi.StateActive)
		w.server.stop(t)
		st := a.waitState(10*time.Second, agentapi.StateOffline)
		if !st.Entitlement.Entitled || !strings.Contains(st.Entitlement.Reason, "offline since") {
			t.Fatalf("offline: %+v", st.Entitlement)
		}
		st = a.waitState(10*time.Second, agentapi.StateExpired)
		if st.Entitlement.Entitled {
			t.Fatalf("expired but entitled: %+v", st.Entitlement)
		}
		w.startServer(w.listen)
		a.waitState(30*time.Second, agentapi.StateActive)
	})

	t.Run("kill -9 at random moments never breaks the state", func(t *testing.T) {
		a.p.kill()
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
		for i := 0; i < 8; i++ {
			ag := w.startAgent(stateA)
			cmd := []string{"deactivate", "--yes"}
			if !ag.status().Activated {
				cmd = []string{"activate", "--license-key", w.key}
			}
			go ag.cli("", cmd...) // its outcome depends on the kill
			time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
			ag.p.cmd.Process.Signal(syscall.SIGKILL)
			<-ag.p.done

			ag = w.startAgent(stateA)
			st := ag.status()
			switch st.Entitlement.State {
			case agentapi.StateActive, agentapi.StateInactive, agentapi.StateOffline:
			default:
				t.Fatalf("round %d: state after kill -9: %+v", i, st.Entitlement)
			}
			if strings.Contains(st.Entitlement.Reason, "state file") {
				t.Fatalf("round %d: state file damaged: %s", i, st.Entitlement.Reason)
			}
			ag.p.stop(t)
		}
	})
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		info, _ := e.Info()
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}
