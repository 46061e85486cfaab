package engine

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		failures int
		r        float64
		min, max time.Duration
	}{
		{1, 0, time.Second, time.Second},
		{1, 0.999, 4 * time.Second, 5 * time.Second},
		{2, 0.999, 9 * time.Second, 10 * time.Second},
		{3, 0.5, 10 * time.Second, 10 * time.Second},
		{8, 0.999, 10 * time.Minute, 15 * time.Minute},
		{1000, 0.999, 14 * time.Minute, 15 * time.Minute},
		{1 << 30, 0.999, 14 * time.Minute, 15 * time.Minute},
		{0, 0.5, time.Second, 5 * time.Second},
		{5, 7, time.Second, 15 * time.Minute}, // out-of-range jitter is tamed
	}
	for _, tc := range tests {
		got := backoff(tc.failures, tc.r)
		if got < tc.min || got > tc.max {
			t.Errorf("backoff(%d, %v) = %v, want in [%v, %v]", tc.failures, tc.r, got, tc.min, tc.max)
		}
	}
	for n := 1; n < 100; n++ {
		for _, r := range []float64{0, 0.1, 0.5, 0.99} {
			if d := backoff(n, r); d < time.Second || d > BackoffMax {
				t.Fatalf("backoff(%d,%v)=%v out of bounds", n, r, d)
			}
		}
	}
}

// The entitlement flips at the exact instant the lease expires, driven by the
// engine's own timer (fake clock of testing/synctest), while the server is
// unreachable; it recovers by itself once the server is back.
func TestExpiryTimerAndRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newTestServer(t)
		srv.ttl = 3 * time.Hour
		srv.checkinSecs = 3600
		e := newEngine(t, srv, t.TempDir(), fpA)
		activateKey(t, e)
		exp := *e.Entitlement("").LeaseExpiry
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- e.Run(ctx) }()
		synctest.Wait()
		srv.set(func(s *testServer) { s.unreachable = true })

		time.Sleep(time.Until(exp) - time.Second)
		synctest.Wait()
		ent := e.Entitlement("")
		if !ent.Entitled || ent.State != agentapi.StateOffline {
			t.Fatalf("1s before expiry: %+v", ent)
		}
		attempts := srv.count(protocol.PathCheckin)
		time.Sleep(time.Second)
		synctest.Wait()
		ent = e.Entitlement("")
		if ent.Entitled || ent.State != agentapi.StateExpired || !strings.Contains(ent.Reason, "unreachable since") {
			t.Fatalf("at expiry: %+v", ent)
		}
		if attempts > 40 {
			t.Fatalf("%d check-in attempts in 3 hours: backoff too tight", attempts)
		}
		srv.set(func(s *testServer) { s.unreachable = false })
		time.Sleep(BackoffMax + time.Second)
		synctest.Wait()
		if ent := e.Entitlement(""); ent.State != agentapi.StateActive {
			t.Fatalf("did not recover: %+v", ent)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestTermEndTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newTestServer(t)
		srv.ttl = 48 * time.Hour
		srv.termEnd = time.Now().Add(90 * time.Minute).Unix()
		e := newEngine(t, srv, t.TempDir(), fpA)
		activateKey(t, e)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go e.Run(ctx)
		time.Sleep(90*time.Minute - time.Second)
		synctest.Wait()
		if !e.Entitlement("").Entitled {
			t.Fatal("expired early")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if ent := e.Entitlement(""); ent.State != agentapi.StateExpired || !strings.Contains(ent.Reason, "license term ended") {
			t.Fatalf("at term end: %+v", ent)
		}
		// The reason shows a date as people write it, the code's argument
		// the RFC 3339 instant (issue 13 item 9).
		end := time.Unix(srv.termEnd, 0)
		if ent := e.Entitlement(""); ent.ReasonCode != agentapi.ReasonTermEnded || ent.ReasonArgs["term_end"] != end.UTC().Format(time.RFC3339) ||
			!strings.HasSuffix(ent.Reason, end.Local().Format("January 2, 2006")) {
			t.Fatalf("term end reason: %q %v", ent.Reason, ent.ReasonArgs)
		}
		cancel()
	})
}

// Run checks in on the server's schedule (bounded below by MinCheckin) and
// renews a short lease before it expires.
func TestCheckinSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newTestServer(t)
		srv.checkinSecs = 1 // too eager: clamped to 60 s
		srv.ttl = 24 * time.Hour
		e := newEngine(t, srv, t.TempDir(), fpA)
		activateKey(t, e)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go e.Run(ctx)
		time.Sleep(10*time.Minute + time.Second)
		synctest.Wait()
		if n := srv.count(protocol.PathCheckin); n < 9 || n > 11 {
			t.Fatalf("%d check-ins in 10 minutes, want about 10", n)
		}
		// Short leases are renewed before they run out.
		srv.set(func(s *testServer) { s.ttl = 30 * time.Second; s.checkinSecs = 3600 })
		e.CheckNow(ctx)
		for i := 0; i < 20; i++ {
			time.Sleep(5 * time.Second)
			synctest.Wait()
			if !e.Entitlement("").Entitled {
				t.Fatalf("short lease lapsed: %+v", e.Entitlement(""))
			}
		}
		cancel()
	})
}

func TestBrowserSignIn(t *testing.T) {
	tests := []struct {
		name       string
		final      string
		wantState  agentapi.State
		wantReason string
	}{
		{"approved", "approved", agentapi.StateActive, "plan, licensed"},
		{"denied", "denied", agentapi.StateInactive, "denied"},
		{"expired", "expired", agentapi.StateInactive, "expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newTestServer(t)
				dir := t.TempDir()
				e := newEngine(t, srv, dir, fpA)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go e.Run(ctx)
				resp, err := e.Activate(ctx, agentapi.ActivateRequest{Method: agentapi.ActivateBrowser})
				if err != nil {
					t.Fatal(err)
				}
				if resp.Pending == nil || resp.Pending.UserCode != "WDJB-MJHT" || resp.Status.Pending == nil {
					t.Fatalf("pending: %+v", resp)
				}
				time.Sleep(3500 * time.Millisecond)
				synctest.Wait()
				polls := srv.count(protocol.PathDeviceToken)
				if polls < 2 || polls > 4 {
					t.Fatalf("%d polls in 3.5 s at a 1 s interval", polls)
				}
				// slow_down adds 5 s to the interval.
				srv.set(func(s *testServer) { s.authState = "slow" })
				time.Sleep(1100 * time.Millisecond)
				synctest.Wait()
				polls = srv.count(protocol.PathDeviceToken)
				time.Sleep(5 * time.Second)
				synctest.Wait()
				if n := srv.count(protocol.PathDeviceToken) - polls; n > 1 {
					t.Fatalf("%d polls in 5 s after slow_down", n)
				}
				// A restarted agent resumes the pending sign-in.
				cancel()
				e = newEngine(t, srv, dir, fpA)
				if e.Status().Pending == nil {
					t.Fatal("pending sign-in not persisted")
				}
				ctx2, cancel2 := context.WithCancel(context.Background())
				defer cancel2()
				go e.Run(ctx2)
				srv.set(func(s *testServer) { s.authState = tc.final })
				time.Sleep(7 * time.Second)
				synctest.Wait()
				ent := e.Entitlement("")
				if ent.State != tc.wantState || !strings.Contains(ent.Reason, tc.wantReason) || e.Status().Pending != nil {
					t.Fatalf("final: %+v pending %+v", ent, e.Status().Pending)
				}
				cancel2()
			})
		})
	}
}
