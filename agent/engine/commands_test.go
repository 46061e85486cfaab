package engine

import (
	"context"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
)

func (s *testServer) queue(cmds ...protocol.Command) {
	s.set(func(s *testServer) { s.queued = append(s.queued, cmds...) })
}

func (s *testServer) resultsFor(id string) []protocol.CommandResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []protocol.CommandResult
	for _, r := range s.results {
		if r.ID == id {
			out = append(out, r)
		}
	}
	return out
}

func checkin(t *testing.T, e *Engine) {
	t.Helper()
	if err := e.CheckNow(context.Background()); err != nil {
		t.Fatalf("check-in: %v", err)
	}
}

func TestRemoteCommands(t *testing.T) {
	future := time.Now().Add(time.Hour).Unix()
	tests := []struct {
		name   string
		mgmt   string
		cmd    protocol.Command
		status string
		code   string
		check  func(t *testing.T, e *Engine, srv *testServer)
	}{
		{name: "suspend", cmd: protocol.Command{ID: "c1", Type: protocol.CmdSuspend, ExpiresAt: future}, status: protocol.CommandSucceeded,
			check: func(t *testing.T, e *Engine, _ *testServer) {
				if ent := e.Entitlement(""); ent.Entitled || ent.ReasonCode != agentapi.ReasonDeviceSuspended {
					t.Fatalf("after suspend: %+v", ent)
				}
			}},
		{name: "deactivate", mgmt: "remote", cmd: protocol.Command{ID: "c2", Type: protocol.CmdDeactivate, ExpiresAt: future},
			check: func(t *testing.T, e *Engine, srv *testServer) {
				if ent := e.Entitlement(""); ent.Entitled || e.Status().Activated {
					t.Fatalf("after remote deactivate: %+v", ent)
				}
				if srv.activeSeats() != 0 {
					t.Fatal("the seat is still held")
				}
			}},
		{name: "local only refuses", mgmt: "local", cmd: protocol.Command{ID: "c3", Type: protocol.CmdDeactivate, ExpiresAt: future},
			status: protocol.CommandRefused, code: protocol.CmdErrLocalOnly,
			check: func(t *testing.T, e *Engine, srv *testServer) {
				if !e.Entitlement("").Entitled || srv.activeSeats() != 1 {
					t.Fatal("a local-only computer obeyed a remote command")
				}
			}},
		{name: "expired", cmd: protocol.Command{ID: "c4", Type: protocol.CmdSuspend, ExpiresAt: time.Now().Add(-time.Minute).Unix()},
			status: protocol.CommandRefused, code: protocol.CmdErrExpired,
			check: func(t *testing.T, e *Engine, _ *testServer) {
				if !e.Entitlement("").Entitled {
					t.Fatal("an expired command ran")
				}
			}},
		{name: "unknown type", cmd: protocol.Command{ID: "c5", Type: "format_disk", ExpiresAt: future},
			status: protocol.CommandRefused, code: protocol.CmdErrUnknown},
		{name: "bad arguments", cmd: protocol.Command{ID: "c6", Type: protocol.CmdShowMessage, ExpiresAt: future},
			status: protocol.CommandRefused, code: protocol.CmdErrInvalidArgs},
		{name: "message", cmd: protocol.Command{ID: "c7", Type: protocol.CmdShowMessage, Args: map[string]string{"message": "Redémarrez ce soir"}, ExpiresAt: future},
			status: protocol.CommandSucceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t)
			srv.mgmt = tc.mgmt
			e := newEngine(t, srv, t.TempDir(), fpA)
			activateKey(t, e)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			events := e.Subscribe(ctx)
			srv.queue(tc.cmd)
			checkin(t, e) // delivers and runs the command
			if tc.check != nil {
				tc.check(t, e, srv)
			}
			if tc.status == "" {
				return // a deactivated computer has no credential to report with
			}
			checkin(t, e) // reports the outcome
			got := srv.resultsFor(tc.cmd.ID)
			if len(got) != 1 || got[0].Status != tc.status || got[0].Code != tc.code {
				t.Fatalf("results for %s = %+v, want one %s %q", tc.cmd.ID, got, tc.status, tc.code)
			}
			if tc.cmd.Type == protocol.CmdShowMessage && tc.status == protocol.CommandSucceeded {
				for {
					select {
					case ev := <-events:
						if ev.Type != agentapi.EventMessage {
							continue
						}
						if ev.Message != "Redémarrez ce soir" {
							t.Fatalf("message event: %+v", ev)
						}
						return
					case <-time.After(5 * time.Second):
						t.Fatal("no message event")
					}
				}
			}
		})
	}
}

// A command delivered twice, before and after a restart, runs once; its
// outcome is reported again each time it is delivered.
func TestRemoteCommandRunsOnce(t *testing.T) {
	srv := newTestServer(t)
	srv.redeliver = true
	dir := t.TempDir()
	e := newEngine(t, srv, dir, fpA)
	activateKey(t, e)
	srv.queue(protocol.Command{ID: "once", Type: protocol.CmdSuspend, ExpiresAt: time.Now().Add(time.Hour).Unix()})
	checkin(t, e) // runs: suspended
	if e.Entitlement("").Entitled {
		t.Fatal("suspend did not run")
	}
	// Resume through another path: a later check-in the server answers
	// entitled clears the suspension; the redelivered suspend must not run
	// again and suspend the computer anew.
	e2 := newEngine(t, srv, dir, fpA) // a restart
	checkin(t, e2)
	checkin(t, e2)
	if !e2.Entitlement("").Entitled {
		t.Fatalf("the redelivered suspend ran again: %+v", e2.Entitlement(""))
	}
	got := srv.resultsFor("once")
	if len(got) < 2 {
		t.Fatalf("outcome reported %d times, want it again on each delivery", len(got))
	}
	for _, r := range got {
		if r.Status != protocol.CommandSucceeded {
			t.Fatalf("result %+v", r)
		}
	}
}
