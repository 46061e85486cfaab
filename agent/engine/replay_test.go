package engine

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/agent/state"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
)

// mitm sits between the engine and the test server: it records the answers
// to one path and, once armed, answers that path with the recording instead
// of asking the server (a man in the middle replaying an earlier answer).
type mitm struct {
	next http.RoundTripper
	path string

	mu       sync.Mutex
	recorded []byte
	replay   bool
}

func (m *mitm) RoundTrip(r *http.Request) (*http.Response, error) {
	m.mu.Lock()
	replay, rec := m.replay, m.recorded
	m.mu.Unlock()
	if r.URL.Path == m.path && replay && rec != nil {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(rec)), Request: r}, nil
	}
	resp, err := m.next.RoundTrip(r)
	if err != nil || r.URL.Path != m.path || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	m.mu.Lock()
	if m.recorded == nil {
		m.recorded = body
	}
	m.mu.Unlock()
	return resp, nil
}

func (m *mitm) arm() { m.mu.Lock(); m.replay = true; m.mu.Unlock() }

func withTransport(rt http.RoundTripper) opt {
	return func(o *Options) { o.HTTPClient = &http.Client{Transport: rt} }
}

// Issue 16, item 6: after the owner released the computer, a man in the
// middle answers the next activation with the answer recorded from the first
// one. Before the fix the agent took it and stayed entitled offline until
// that lease expired; now the lease does not carry this request's nonce.
func TestReplayedActivationAnswerRefused(t *testing.T) {
	tests := []struct {
		name   string
		method agentapi.ActivateRequest
	}{
		{"license key", agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: goodKey}},
		{"password", agentapi.ActivateRequest{Method: agentapi.ActivatePassword, Email: "ann@example.com", Password: "hunter2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t)
			m := &mitm{next: memTransport{srv}, path: protocol.PathActivations}
			e := newEngine(t, srv, t.TempDir(), fpA, withTransport(m))
			if _, err := e.Activate(context.Background(), tc.method); err != nil {
				t.Fatal(err)
			}
			if err := e.Deactivate(context.Background()); err != nil { // the owner releases it
				t.Fatal(err)
			}
			m.arm()
			_, err := e.Activate(context.Background(), tc.method)
			if err == nil || !strings.Contains(err.Error(), "nonce") {
				t.Fatalf("replayed activation answer: %v", err)
			}
			if ent := e.Entitlement(""); ent.Entitled {
				t.Fatalf("entitled by a replayed answer: %+v", ent)
			}
		})
	}
}

// Issue 16, item 6: a lease older than one this computer already accepted
// is refused, even after a deactivation and on a path without a nonce (the
// browser sign-in's device token).
func TestOlderLeaseRefusedAfterDeactivation(t *testing.T) {
	srv := newTestServer(t)
	clk := newClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	srv.now = clk.Now
	srv.ttl = 7 * 24 * time.Hour // the replayed lease would still be valid
	m := &mitm{next: memTransport{srv}, path: protocol.PathDeviceToken}
	dir := t.TempDir()
	e := newEngine(t, srv, dir, fpA, withTransport(m), withNow(clk.Now))
	if _, err := e.Activate(context.Background(), agentapi.ActivateRequest{Method: agentapi.ActivateBrowser}); err != nil {
		t.Fatal(err)
	}
	srv.set(func(s *testServer) { s.authState = "approved" })
	if err := e.CheckNow(context.Background()); err != nil || !e.Entitlement("").Entitled {
		t.Fatalf("browser sign-in: %v %+v", err, e.Entitlement(""))
	}
	clk.Add(time.Hour)
	if err := e.CheckNow(context.Background()); err != nil { // a newer lease
		t.Fatal(err)
	}
	if err := e.Deactivate(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Restarted, then a new browser sign-in answered with the old recording.
	e = newEngine(t, srv, dir, fpA, withTransport(m), withNow(clk.Now))
	if _, err := e.Activate(context.Background(), agentapi.ActivateRequest{Method: agentapi.ActivateBrowser}); err != nil {
		t.Fatal(err)
	}
	m.arm()
	_ = e.CheckNow(context.Background())
	if ent := e.Entitlement(""); ent.Entitled {
		t.Fatalf("an older lease was accepted after deactivation: %+v", ent)
	}
	if st := e.Status(); !strings.Contains(st.LastError, "older") {
		t.Fatalf("last error %q", st.LastError)
	}
	saved, err := state.NewStore(dir).Load()
	if err != nil || saved.LeaseIssuedMax == 0 {
		t.Fatalf("newest lease issue time not kept: %+v %v", saved, err)
	}
}
