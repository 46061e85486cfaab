package engine

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
)

func TestCheckinOutcomes(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(s *testServer)
		wantState agentapi.State
		wantCode  string
		wantEvent string
		activated bool
	}{
		{"revoked", func(s *testServer) {
			for _, d := range s.devices {
				d.revoked = true
			}
		}, agentapi.StateInactive, agentapi.ErrDeviceRevoked, agentapi.EventDeactivated, false},
		{"license revoked", func(s *testServer) {
			s.checkinHook = func(w http.ResponseWriter) bool {
				writeErr(w, protocol.ErrLicenseRevoked, "license ABCDE-… was withdrawn by its organization")
				return true
			}
		}, agentapi.StateInactive, agentapi.ErrDeviceRevoked, agentapi.EventDeactivated, false},
		{"suspended", func(s *testServer) { s.suspended = true }, agentapi.StateSuspended, agentapi.ErrLicenseSuspended, agentapi.EventStatus, true},
		{"server error", func(s *testServer) { s.down = true }, agentapi.StateOffline, agentapi.ErrUpstream, agentapi.EventStatus, true},
		{"unreachable", func(s *testServer) { s.unreachable = true }, agentapi.StateOffline, agentapi.ErrUnavailable, agentapi.EventStatus, true},
		{"oversize answer", func(s *testServer) {
			s.checkinHook = func(w http.ResponseWriter) bool {
				w.Write([]byte(`{"lease":"` + strings.Repeat("a", protocol.MaxBodyBytes) + `"}`))
				return true
			}
		}, agentapi.StateOffline, agentapi.ErrUpstream, "", true},
		{"lease by unknown key", func(s *testServer) {
			other := newTestServer(s.t)
			s.checkinHook = func(w http.ResponseWriter) bool {
				writeJSON(w, protocol.CheckinResponse{Lease: other.leaseFor(&device{id: "dev_1", fp: fpA}), CheckinAfter: 60})
				return true
			}
		}, agentapi.StateOffline, agentapi.ErrUpstream, "", true},
		{"lease for other computer", func(s *testServer) {
			s.checkinHook = func(w http.ResponseWriter) bool {
				writeJSON(w, protocol.CheckinResponse{Lease: s.leaseFor(&device{id: "dev_1", fp: fpB}), CheckinAfter: 60})
				return true
			}
		}, agentapi.StateOffline, agentapi.ErrUpstream, "", true},
		{"not json", func(s *testServer) {
			s.checkinHook = func(w http.ResponseWriter) bool { w.Write([]byte("<html>")); return true }
		}, agentapi.StateOffline, agentapi.ErrUpstream, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t)
			dir := t.TempDir()
			e := newEngine(t, srv, dir, fpA)
			activateKey(t, e)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			events := e.Subscribe(ctx)
			<-events // current status
			srv.set(tc.mutate)
			err := e.CheckNow(context.Background())
			if apiCode(err) != tc.wantCode {
				t.Fatalf("got %v, want code %s", err, tc.wantCode)
			}
			ent := e.Entitlement("")
			if ent.State != tc.wantState || e.Status().Activated != tc.activated {
				t.Fatalf("state %s (%s), activated %v", ent.State, ent.Reason, e.Status().Activated)
			}
			if tc.wantEvent != "" {
				found := false
				for len(events) > 0 {
					if ev := <-events; ev.Type == tc.wantEvent {
						found = true
					}
				}
				if !found {
					t.Fatalf("no %s event", tc.wantEvent)
				}
			}
			if e2 := newEngine(t, srv, dir, fpA); e2.Status().Activated != tc.activated {
				t.Fatal("outcome not persisted")
			}
		})
	}
}

func TestReplayedLeaseRefused(t *testing.T) {
	srv := newTestServer(t)
	clk := newClock(time.Now().Truncate(time.Second))
	srv.now = clk.Now
	e := newEngine(t, srv, t.TempDir(), fpA, withNow(clk.Now))
	activateKey(t, e)
	old := e.Entitlement("").Lease
	clk.Add(time.Minute)
	if err := e.CheckNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.set(func(s *testServer) {
		s.checkinHook = func(w http.ResponseWriter) bool {
			writeJSON(w, protocol.CheckinResponse{Lease: old, CheckinAfter: 60})
			return true
		}
	})
	if err := e.CheckNow(context.Background()); apiCode(err) != agentapi.ErrUpstream || !strings.Contains(err.Error(), "older") {
		t.Fatalf("replay accepted: %v", err)
	}
}

func TestCheckinSendsProfiles(t *testing.T) {
	srv := newTestServer(t)
	ps := &profiles{changes: make(chan struct{}, 1), count: 2}
	e := newEngine(t, srv, t.TempDir(), fpA, func(o *Options) { o.Profiles = ps })
	activateKey(t, e)
	if err := e.CheckNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	got := srv.lastCheckin.Profiles
	srv.mu.Unlock()
	if got == nil || got.Total != 2 || ps.lastMax() != 5 {
		t.Fatalf("profiles summary %+v, max %d", got, ps.lastMax())
	}
	if e.Entitlement("").ProfileCount != 2 || e.Status().Profiles == nil {
		t.Fatal("profile count missing")
	}
}

type profiles struct {
	mu      sync.Mutex
	changes chan struct{}
	count   int
	max     int
}

func (p *profiles) Status(max int) agentapi.ProfilesStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.max = max
	return agentapi.ProfilesStatus{Folder: "/p", Count: p.count, Usable: p.count}
}

func (p *profiles) Summary(max int) protocol.ProfileSummary {
	p.mu.Lock()
	defer p.mu.Unlock()
	return protocol.ProfileSummary{Total: p.count, Valid: p.count}
}
func (p *profiles) Changes() <-chan struct{} { return p.changes }
func (p *profiles) lastMax() int             { p.mu.Lock(); defer p.mu.Unlock(); return p.max }
