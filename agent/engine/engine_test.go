package engine

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/agent/state"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
)

var (
	fpA = strings.Repeat("a", 64)
	fpB = strings.Repeat("b", 64)
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }
func newClock(t time.Time) *clock    { return &clock{t: t} }
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

type opt func(*Options)

func newEngine(t testing.TB, srv *testServer, dir, fp string, opts ...opt) *Engine {
	t.Helper()
	cfg := config.Defaults()
	cfg.StateDir = dir
	cfg.ServerURL = "http://server.test"
	cfg.PinnedKeys = []string{lease.EncodePublicKey(srv.publicKey())}
	o := Options{Config: cfg, Fingerprint: fp, Keys: srv.keys(), HTTPClient: srv.client(), Logger: testLogger(t), Version: "test"}
	for _, f := range opts {
		f(&o)
	}
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func withNow(now func() time.Time) opt { return func(o *Options) { o.Now = now } }

func apiCode(err error) string {
	var ae *agentapi.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// apiArgs returns the arguments of a local API error.
func apiArgs(err error) map[string]string {
	var ae *agentapi.Error
	if errors.As(err, &ae) {
		return ae.Args
	}
	return nil
}

func activateKey(t testing.TB, e *Engine) {
	t.Helper()
	if _, err := e.Activate(context.Background(), agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: " " + strings.ToLower(goodKey) + " "}); err != nil {
		t.Fatalf("activate: %v", err)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	srv := newTestServer(t)
	cfg := config.Defaults()
	cfg.StateDir = t.TempDir()
	tests := []struct {
		name string
		o    Options
	}{
		{"bad fingerprint", Options{Config: cfg, Fingerprint: "abc", Keys: srv.keys()}},
		{"bad config", Options{Config: config.Config{}, Fingerprint: fpA, Keys: srv.keys()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.o); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

func TestActivateByKeyAndReload(t *testing.T) {
	srv := newTestServer(t)
	dir := t.TempDir()
	e := newEngine(t, srv, dir, fpA)
	if ent := e.Entitlement(""); ent.Entitled || ent.State != agentapi.StateInactive {
		t.Fatalf("fresh engine: %+v", ent)
	}
	activateKey(t, e)
	ent := e.Entitlement("")
	if !ent.Entitled || ent.State != agentapi.StateActive || ent.Lease == "" || ent.Plan != "pro" || ent.DeviceID == "" {
		t.Fatalf("after activation: %+v", ent)
	}
	if _, err := lease.Verify(ent.Lease, srv.keys(), fpA, time.Now()); err != nil {
		t.Fatalf("entitlement lease does not verify: %v", err)
	}
	if f := e.Entitlement("sign"); !f.Entitled || f.Feature != "sign" {
		t.Fatalf("feature sign: %+v", f)
	}
	// A feature outside the plan: not entitled, the license's state, and a
	// code a program can switch on (issue 13 item 8).
	if f := e.Entitlement("teleport"); f.Entitled || f.State != agentapi.StateActive || f.ReasonCode != agentapi.ReasonFeatureNotInPlan ||
		f.ReasonArgs["feature"] != "teleport" || !strings.Contains(f.Reason, "teleport") {
		t.Fatalf("feature teleport: %+v", f)
	}
	st := e.Status()
	if !st.Activated || st.Account != "ann@example.com" || st.Organization != "Acme" || !st.DeactivateOK || st.NextCheckin == nil {
		t.Fatalf("status: %+v", st)
	}
	fi, err := os.Stat(filepath.Join(dir, state.FileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", err, fi)
	}
	data, _ := os.ReadFile(filepath.Join(dir, state.FileName))
	if strings.Contains(string(data), goodKey) {
		t.Fatal("license key stored in state")
	}
	// A restarted agent loads the activation.
	e2 := newEngine(t, srv, dir, fpA)
	if ent := e2.Entitlement(""); !ent.Entitled || ent.State != agentapi.StateActive {
		t.Fatalf("after reload: %+v", ent)
	}
}

func TestActivateErrors(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(srv *testServer, e *Engine)
		req      agentapi.ActivateRequest
		wantCode string
		wantMsg  string
	}{
		{"bad method", nil, agentapi.ActivateRequest{Method: "magic"}, agentapi.ErrBadRequest, "method"},
		{"empty key", nil, agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey}, agentapi.ErrBadRequest, "license_key"},
		{"bad email", nil, agentapi.ActivateRequest{Method: agentapi.ActivatePassword, Email: "x", Password: "p"}, agentapi.ErrBadRequest, "email"},
		{"malformed key", nil, agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: "NOPE"}, agentapi.ErrBadRequest, "license key"},
		{"unknown key", nil, agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: otherKey}, agentapi.ErrUnknownLicense, "no such license key"},
		{"wrong password", nil, agentapi.ActivateRequest{Method: agentapi.ActivatePassword, Email: "ann@example.com", Password: "x"}, agentapi.ErrInvalidCredentials, "wrong email or password"},
		{"no seats", func(srv *testServer, e *Engine) { srv.set(func(s *testServer) { s.seats = 0 }) },
			agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: goodKey}, agentapi.ErrNoSeats, "all 0 seats are in use; deactivate a device first"},
		{"server down", func(srv *testServer, e *Engine) { srv.set(func(s *testServer) { s.unreachable = true }) },
			agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: goodKey}, agentapi.ErrUnavailable, "cannot reach"},
		{"server error", func(srv *testServer, e *Engine) { srv.set(func(s *testServer) { s.down = true }) },
			agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: goodKey}, agentapi.ErrUpstream, "maintenance"},
		{"already active", func(srv *testServer, e *Engine) { activateKey(srv.t, e) },
			agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: goodKey}, agentapi.ErrConflict, "already activated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t)
			e := newEngine(t, srv, t.TempDir(), fpA)
			if tc.setup != nil {
				tc.setup(srv, e)
			}
			_, err := e.Activate(context.Background(), tc.req)
			if apiCode(err) != tc.wantCode || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("got %v, want %s containing %q", err, tc.wantCode, tc.wantMsg)
			}
		})
	}
}

func TestActivateByPasswordOverTCP(t *testing.T) {
	srv := newTestServer(t)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	e := newEngine(t, srv, t.TempDir(), fpA, func(o *Options) {
		o.Config.ServerURL = hs.URL
		o.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	})
	_, err := e.Activate(context.Background(), agentapi.ActivateRequest{Method: agentapi.ActivatePassword, Email: "ann@example.com", Password: "hunter2"})
	if err != nil {
		t.Fatal(err)
	}
	if !e.Entitlement("").Entitled {
		t.Fatal("not entitled")
	}
	if err := e.CheckNow(context.Background()); err != nil {
		t.Fatalf("check: %v", err)
	}
	hs.Close()
	err = e.CheckNow(context.Background())
	if apiCode(err) != agentapi.ErrUnavailable {
		t.Fatalf("closed server: %v", err)
	}
	if ent := e.Entitlement(""); !ent.Entitled || ent.State != agentapi.StateOffline || !strings.Contains(ent.Reason, "offline since") || !strings.Contains(ent.Reason, "grace until") {
		t.Fatalf("offline: %+v", ent)
	}
	if st := e.Status(); st.OfflineSince == nil || st.GraceUntil == nil || st.LastError == "" ||
		st.LastErrorCode != agentapi.ProblemCheckinFailed || st.LastErrorArgs["error"] != agentapi.ErrUnavailable {
		t.Fatalf("offline status: %+v", st)
	}
	if err := e.CheckNow(context.Background()); apiCode(err) != agentapi.ErrUnavailable || apiArgs(err)["server_url"] == "" {
		t.Fatalf("closed server, again: %v", err)
	}
}

func TestDeactivate(t *testing.T) {
	srv := newTestServer(t)
	dir := t.TempDir()
	e := newEngine(t, srv, dir, fpA)
	if err := e.Deactivate(context.Background()); apiCode(err) != agentapi.ErrConflict {
		t.Fatalf("deactivate when inactive: %v", err)
	}
	activateKey(t, e)
	if srv.activeSeats() != 1 {
		t.Fatal("seat not taken")
	}
	srv.set(func(s *testServer) { s.unreachable = true })
	if err := e.Deactivate(context.Background()); apiCode(err) != agentapi.ErrUnavailable || !strings.Contains(err.Error(), "kept") {
		t.Fatalf("unreachable: %v", err)
	}
	if !e.Entitlement("").Entitled || !e.Status().Activated {
		t.Fatal("activation must be kept when the server is unreachable")
	}
	srv.set(func(s *testServer) { s.unreachable = false })
	if err := e.Deactivate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if srv.activeSeats() != 0 {
		t.Fatal("seat not freed")
	}
	if ent := e.Entitlement(""); ent.Entitled || ent.State != agentapi.StateInactive {
		t.Fatalf("after deactivate: %+v", ent)
	}
	if e2 := newEngine(t, srv, dir, fpA); e2.Status().Activated {
		t.Fatal("deactivation not persisted")
	}
	activateKey(t, e) // the seat can be taken again
}

func TestRemoteManaged(t *testing.T) {
	srv := newTestServer(t)
	srv.mgmt = "remote"
	e := newEngine(t, srv, t.TempDir(), fpA)
	activateKey(t, e)
	st := e.Status()
	if st.DeactivateOK || st.DeactivateNote != "managed remotely by Acme; ask your administrator" {
		t.Fatalf("status: %+v", st)
	}
	if err := e.Deactivate(context.Background()); apiCode(err) != agentapi.ErrForbidden {
		t.Fatalf("got %v", err)
	}
	if srv.activeSeats() != 1 {
		t.Fatal("seat freed")
	}
}

func TestForeignState(t *testing.T) {
	srv := newTestServer(t)
	dirA := t.TempDir()
	activateKey(t, newEngine(t, srv, dirA, fpA))
	// Copy A's state folder to computer B.
	dirB := t.TempDir()
	for _, name := range []string{state.FileName, state.KeyName} {
		data, err := os.ReadFile(filepath.Join(dirA, name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dirB, name), data, 0o600)
	}
	before := srv.count(protocol.PathCheckin)
	b := newEngine(t, srv, dirB, fpB)
	ent := b.Entitlement("")
	if ent.Entitled || ent.State != agentapi.StateForeign || ent.Reason != "this activation belongs to another computer" || ent.ReasonCode != agentapi.ReasonForeignDevice || ent.Lease != "" {
		t.Fatalf("foreign: %+v", ent)
	}
	if b.Status().Activated {
		t.Fatal("foreign state reported as activated")
	}
	if err := b.CheckNow(context.Background()); apiCode(err) != agentapi.ErrConflict {
		t.Fatalf("check on foreign: %v", err)
	}
	if srv.count(protocol.PathCheckin) != before {
		t.Fatal("the other computer's credential was sent to the server")
	}
	// Deactivating B clears the copy locally, without freeing A's seat.
	if err := b.Deactivate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if srv.activeSeats() != 1 || b.Entitlement("").State != agentapi.StateInactive {
		t.Fatal("foreign deactivation touched the server or left state behind")
	}
	activateKey(t, b)
	if srv.activeSeats() != 2 {
		t.Fatal("B could not activate itself")
	}
}

func TestTamperedState(t *testing.T) {
	srv := newTestServer(t)
	dir := t.TempDir()
	activateKey(t, newEngine(t, srv, dir, fpA))
	path := filepath.Join(dir, state.FileName)
	data, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(data), "Acme", "Evil", 1)), 0o600)
	e := newEngine(t, srv, dir, fpA)
	ent := e.Entitlement("")
	if ent.Entitled || ent.State != agentapi.StateTampered || !strings.Contains(ent.Reason, "state file was modified outside the agent; activate again") {
		t.Fatalf("tampered: %+v", ent)
	}
	activateKey(t, e) // the fingerprint keeps its seat on the server
	if !e.Entitlement("").Entitled || srv.activeSeats() != 1 {
		t.Fatal("re-activation after tampering failed")
	}
	// Truncated file: inactive with a reason, never a crash.
	os.WriteFile(path, data[:len(data)/3], 0o600)
	if ent := newEngine(t, srv, dir, fpA).Entitlement(""); ent.State != agentapi.StateInactive || !strings.Contains(ent.Reason, "unreadable") {
		t.Fatalf("corrupt: %+v", ent)
	}
}

func TestClockRollback(t *testing.T) {
	srv := newTestServer(t)
	t0 := time.Now().Truncate(time.Second)
	clk := newClock(t0)
	srv.now = clk.Now // server and agent agree on time
	srv.ttl = 7 * 24 * time.Hour
	dir := t.TempDir()
	e := newEngine(t, srv, dir, fpA, withNow(clk.Now))
	activateKey(t, e)

	clk.Add(2 * time.Hour)
	e.refresh() // the agent sees 2h later
	clk.Add(-90 * time.Minute)
	e.refresh()
	ent := e.Entitlement("")
	if ent.Entitled || ent.State != agentapi.StateTampered || !strings.Contains(ent.Reason, "system clock was set back") {
		t.Fatalf("after rollback: %+v", ent)
	}
	// Survives a restart.
	e = newEngine(t, srv, dir, fpA, withNow(clk.Now))
	if ent := e.Entitlement(""); ent.State != agentapi.StateTampered {
		t.Fatalf("after restart: %+v", ent)
	}
	// A successful check-in vouches for the time again.
	clk.Set(t0.Add(2 * time.Hour))
	srv.now = clk.Now
	if err := e.CheckNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Rolling back less than the tolerance is fine.
	clk.Set(t0.Add(3 * time.Hour))
	e.refresh()
	clk.Set(t0.Add(3*time.Hour - 30*time.Minute))
	e.refresh()
	if ent := e.Entitlement(""); ent.State != agentapi.StateActive {
		t.Fatalf("small rollback: %+v", ent)
	}
	// A clock that ran ahead (mark far in the future) is cleared by a
	// successful check-in against the server's time.
	clk.Set(t0.Add(5 * 24 * time.Hour))
	e.refresh()
	clk.Set(t0.Add(3 * time.Hour))
	srv.now = func() time.Time { return t0.Add(3 * time.Hour) }
	e.refresh()
	if ent := e.Entitlement(""); ent.State != agentapi.StateTampered {
		t.Fatalf("want tampered before check-in: %+v", ent)
	}
	if err := e.CheckNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ent := e.Entitlement(""); ent.State != agentapi.StateActive {
		t.Fatalf("after successful check-in: %+v", ent)
	}
}

func TestSubscribe(t *testing.T) {
	srv := newTestServer(t)
	e := newEngine(t, srv, t.TempDir(), fpA)
	ctx, cancel := context.WithCancel(context.Background())
	slow := e.Subscribe(ctx) // never read: must not block the engine
	fast := e.Subscribe(ctx)
	first := <-fast
	if first.Type != agentapi.EventStatus || first.Status == nil {
		t.Fatalf("first event %+v", first)
	}
	for i := 0; i < 3*subscriberBuffer; i++ {
		activateKey(t, e)
		if err := e.Deactivate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	for range slow {
	}
	n := 0
	for range fast {
		n++
	}
	if n == 0 {
		t.Fatal("no events")
	}
}

// TestEntitlementPointerContract: the general answer is the engine's shared
// snapshot, whose pointer changes exactly when the answer does (the local API
// caches its JSON by that pointer); feature answers are private copies.
func TestEntitlementPointerContract(t *testing.T) {
	srv := newTestServer(t)
	e := newEngine(t, srv, t.TempDir(), fpA)
	before := e.Entitlement("")
	if again := e.Entitlement(""); again != before {
		t.Fatal("an unchanged answer came back as a new pointer: the API would re-serialize it on every request")
	}
	if f := e.Entitlement("sign"); f == before || f.Feature != "sign" || before.Feature != "" {
		t.Fatal("a feature answer shares or altered the general answer")
	}
	activateKey(t, e)
	after := e.Entitlement("")
	if after == before || before.State != agentapi.StateInactive || after.State != agentapi.StateActive {
		t.Fatalf("state change: same pointer %v, before %s, after %s", after == before, before.State, after.State)
	}
}
