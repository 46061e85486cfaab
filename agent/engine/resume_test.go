package engine

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/entitle/entitle/agent/state"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
)

// loseAnswer lets the server commit the first activation and then fails as
// if the connection broke before the answer arrived.
type loseAnswer struct {
	next http.RoundTripper
	lost atomic.Bool
}

func (l *loseAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err == nil && r.URL.Path == protocol.PathActivations && resp.StatusCode == http.StatusOK && l.lost.CompareAndSwap(false, true) {
		resp.Body.Close()
		return nil, errors.New("read tcp: connection reset by peer")
	}
	return resp, err
}

// Issue 16, item 9, engine side: the answer of a committed activation is
// lost. The record saved before asking survives a restart, the restarted
// engine finishes the activation on the same seat, and the license key is
// gone from the state file once the answer is stored. A password is never
// stored: the interruption is reported and re-activating reuses the seat.
func TestInterruptedActivationResumes(t *testing.T) {
	tests := []struct {
		name       string
		req        agentapi.ActivateRequest
		wantActive bool
	}{
		{"license key", agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: goodKey}, true},
		{"password", agentapi.ActivateRequest{Method: agentapi.ActivatePassword, Email: "ann@example.com", Password: "hunter2"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t)
			dir := t.TempDir()
			tr := &loseAnswer{next: memTransport{srv}}
			e := newEngine(t, srv, dir, fpA, withTransport(tr))
			if _, err := e.Activate(context.Background(), tc.req); apiCode(err) != agentapi.ErrUnavailable {
				t.Fatalf("lost answer: %v", err)
			}
			if srv.activeSeats() != 1 {
				t.Fatal("the server did not commit")
			}
			data, _ := os.ReadFile(filepath.Join(dir, state.FileName))
			if strings.Contains(string(data), "hunter2") {
				t.Fatal("password stored")
			}
			// Killed now; the next start resumes what it can.
			e = newEngine(t, srv, dir, fpA, withTransport(tr))
			e.step(context.Background())
			ent := e.Entitlement("")
			if tc.wantActive {
				if ent.State != agentapi.StateActive {
					t.Fatalf("not resumed: %+v (last error %q)", ent, e.Status().LastError)
				}
				data, _ := os.ReadFile(filepath.Join(dir, state.FileName))
				noTokenIn(t, goodKey, string(data))
			} else {
				if ent.Entitled || !strings.Contains(ent.Reason, "interrupted") || !e.Status().DeactivateOK {
					t.Fatalf("interrupted password activation: %+v", ent)
				}
				if _, err := e.Activate(context.Background(), tc.req); err != nil {
					t.Fatal(err)
				}
			}
			if n := srv.activeSeats(); n != 1 {
				t.Fatalf("%d seats, want the one already taken", n)
			}
		})
	}
}
