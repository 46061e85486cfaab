//go:build linux

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/tray/traytest"
)

// TestTrayWithoutSessionBus: without a D-Bus session the tray used to panic
// inside systray and then hang; it must exit at once, non-zero, saying why.
func TestTrayWithoutSessionBus(t *testing.T) {
	bin := trayBinary(t)
	runtimeDir := t.TempDir() // no "bus" socket in it
	tests := []struct {
		name string
		env  []string
	}{
		{"address names no bus", []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(runtimeDir, "none")}},
		{"no address at all", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "--listen", "127.0.0.1:1", "--state-dir", t.TempDir())
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") && !strings.HasPrefix(kv, "XDG_RUNTIME_DIR=") &&
					!strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "WAYLAND_DISPLAY=") {
					env = append(env, kv)
				}
			}
			cmd.Env = append(append(env, "XDG_RUNTIME_DIR="+runtimeDir), tc.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("the tray hung without a session bus:\n%s", stderr.String())
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 {
				t.Fatalf("exit: %v, want status 3\n%s", err, stderr.String())
			}
			out := stderr.String()
			if !strings.Contains(out, "no D-Bus session bus") || strings.Contains(out, "panic") {
				t.Errorf("stderr:\n%s", out)
			}
		})
	}
}

// TestTrayFollowsAgentConfig: the packaged tray has no flags; it must find
// the agent where agent.toml says (listen, state_dir), exactly as the CLI
// does: $ENTITLE_CONFIG or --config, and it picks up an edited file without
// a restart.
func TestTrayFollowsAgentConfig(t *testing.T) {
	bin := trayBinary(t)
	w := newWorld(t)
	bus := traytest.StartBus(t)
	writeConfig := func(path, listen, stateDir string) {
		t.Helper()
		body := fmt.Sprintf("listen = %q\nstate_dir = %q\n", listen, stateDir)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("ENTITLE_CONFIG", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "agent.toml")
		writeConfig(cfg, w.agentAt, w.stateDir)
		tr := traytest.StartTray(t, bin, bus, []string{"ENTITLE_CONFIG=" + cfg})
		tr.WaitItem(t, "Not activated", 30*time.Second)
	})
	t.Run("--config, then the file changes", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "agent.toml")
		writeConfig(cfg, freeAddr(t), t.TempDir()) // nothing there yet
		tr := traytest.StartTray(t, bin, bus, nil, "--config", cfg, "--max-backoff", "1s")
		tr.WaitItem(t, "Agent not running", 30*time.Second)
		writeConfig(cfg, w.agentAt, w.stateDir)
		tr.WaitItem(t, "Not activated", 30*time.Second)
	})
	t.Run("unreadable config", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "agent.toml")
		if err := os.WriteFile(cfg, []byte("listen = 7343\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		tr := traytest.StartTray(t, bin, bus, nil, "--config", cfg)
		tr.WaitItem(t, "Cannot talk to the agent", 30*time.Second)
		tr.WaitItem(t, "Cannot read the agent's configuration file", 5*time.Second)
	})
}
