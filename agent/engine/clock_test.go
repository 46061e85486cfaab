package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/entitle/entitle/agent/state"
	"github.com/entitle/entitle/pkg/agentapi"
)

// osClock is a clock as the operating system gives it: every reading carries
// a monotonic part (as time.Now's do) that only real elapsed time moves
// (Sleep), while setting the clock (SetBack, SetForward) moves the wall
// reading alone, exactly what an administrator's `date -s` does under a
// running agent. Go has no API to build such a time.Time; withWall rewrites
// the wall field of a real reading and checks its work through the public
// API, so a change of time.Time's layout fails the tests instead of lying.
type osClock struct {
	t    testing.TB
	mu   sync.Mutex
	base time.Time     // a real time.Now(), with a monotonic reading
	real time.Duration // elapsed real time (moves both readings)
	set  time.Duration // wall offset set by "the administrator"
}

func newOSClock(t testing.TB) *osClock {
	return &osClock{t: t, base: time.Now()}
}

func (c *osClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return withWall(c.t, c.base.Add(c.real), c.set)
}

func (c *osClock) Sleep(d time.Duration)      { c.mu.Lock(); c.real += d; c.mu.Unlock() }
func (c *osClock) SetBack(d time.Duration)    { c.mu.Lock(); c.set -= d; c.mu.Unlock() }
func (c *osClock) SetForward(d time.Duration) { c.mu.Lock(); c.set += d; c.mu.Unlock() }

// Wall returns the wall reading as a plain time (for the test server).
func (c *osClock) Wall() time.Time { return c.Now().Round(0) }

// timeLayout mirrors time.Time (src/time/time.go): with the hasMonotonic
// bit set, wall holds 33 bits of seconds since 1885 and 30 bits of
// nanoseconds, and ext the monotonic reading.
type timeLayout struct {
	wall uint64
	ext  int64
	loc  *time.Location
}

const (
	hasMonotonicBit = 1 << 63
	nsecBits        = 30
	nsecMask        = 1<<nsecBits - 1
	secMask         = 1<<33 - 1
)

// withWall returns t with its wall reading moved by d and its monotonic
// reading unchanged.
func withWall(tb testing.TB, t time.Time, d time.Duration) time.Time {
	tb.Helper()
	if !hasMonotonic(t) {
		tb.Fatal("withWall needs a reading with a monotonic part")
	}
	out := t
	p := (*timeLayout)(unsafe.Pointer(&out))
	if p.wall&hasMonotonicBit == 0 {
		tb.Fatal("time.Time layout changed: no monotonic bit")
	}
	sec := int64(p.wall>>nsecBits) & secMask
	total := sec*1e9 + int64(p.wall&nsecMask) + int64(d)
	p.wall = hasMonotonicBit | uint64(total/1e9)<<nsecBits | uint64(total%1e9)
	if !out.Round(0).Equal(t.Round(0).Add(d)) || out.Sub(t) != 0 || !hasMonotonic(out) {
		tb.Fatalf("time.Time layout changed: withWall(%v, %v) = %v", t, d, out)
	}
	return out
}

func TestWithWall(t *testing.T) {
	c := newOSClock(t)
	a := c.Now()
	c.SetBack(24 * time.Hour)
	b := c.Now()
	if !b.Equal(a) || b.Sub(a) != 0 {
		t.Fatal("a wall-only change moved the monotonic reading")
	}
	if got := a.Round(0).Sub(b.Round(0)); got != 24*time.Hour {
		t.Fatalf("wall moved %v, want 24h", got)
	}
}

// Issue 16, item 1: the clock set back a day under a running agent. The
// readings keep their monotonic part, as in production; before the fix the
// mark and the comparison were on the monotonic clock and the expired
// lease was valid again, and that mark was saved.
func TestClockSetBackWhileRunning(t *testing.T) {
	srv, clk, dir, e := activatedOnOSClock(t)

	srv.set(func(s *testServer) { s.unreachable = true })
	clk.Sleep(8 * 24 * time.Hour) // offline; the lease expired a day ago
	e.refresh()
	if ent := e.Entitlement(""); ent.State != agentapi.StateExpired {
		t.Fatalf("after the lease expired: %+v", ent)
	}
	clk.SetBack(48 * time.Hour)
	e.refresh()
	ent := e.Entitlement("")
	if ent.Entitled || ent.State != agentapi.StateTampered || !strings.Contains(ent.Reason, "set back") {
		t.Fatalf("clock set back two days under a running agent: %+v", ent)
	}
	// The mark saved is the wall reading, so a restart still sees it.
	e.mu.Lock()
	_ = e.saveLocked()
	e.mu.Unlock()
	e2 := newEngine(t, srv, dir, fpA, withNow(clk.Now))
	if ent := e2.Entitlement(""); ent.State != agentapi.StateTampered {
		t.Fatalf("after a restart: %+v", ent)
	}
}

// Issue 16, item 5: setting the clock back by less than the tolerance, again
// and again, while the agent runs and across restarts. Before the budget
// each set-back was forgiven and the offline lease never expired.
func TestRepeatedSmallSetBacksSpendOneBudget(t *testing.T) {
	tests := []struct {
		name    string
		restart bool
	}{
		{"while running", false},
		{"across restarts", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t)
			clk := newOSClock(t)
			srv.now = clk.Wall
			srv.ttl = 7 * 24 * time.Hour
			dir := t.TempDir()
			e := newEngine(t, srv, dir, fpA, withNow(clk.Now))
			activateKey(t, e)
			srv.set(func(s *testServer) { s.unreachable = true })
			for i := range 3 {
				clk.Sleep(50 * time.Minute)
				e.refresh()
				if tc.restart {
					e.mu.Lock()
					_ = e.saveLocked() // what Run saves before it is stopped
					e.mu.Unlock()
					clk.SetBack(50 * time.Minute) // while the agent is stopped
					e = newEngine(t, srv, dir, fpA, withNow(clk.Now))
				} else {
					clk.SetBack(50 * time.Minute)
					e.refresh()
				}
				ent := e.Entitlement("")
				if i == 0 && ent.State != agentapi.StateActive {
					t.Fatalf("one set-back within the tolerance: %+v", ent)
				}
				if i > 0 && ent.State != agentapi.StateTampered {
					t.Fatalf("set-back %d (total %d min): %+v", i+1, 50*(i+1), ent)
				}
			}
			// A successful check-in vouches for the time and refills it.
			srv.set(func(s *testServer) { s.unreachable = false })
			if err := e.CheckNow(context.Background()); err != nil {
				t.Fatal(err)
			}
			if ent := e.Entitlement(""); ent.State != agentapi.StateActive {
				t.Fatalf("after a check-in: %+v", ent)
			}
		})
	}
}

// A clock slowed (set back a little every minute) never goes below the
// mark, but the monotonic clock sees the time it lost.
func TestSlowedClockSpendsBudget(t *testing.T) {
	srv := newTestServer(t)
	clk := newOSClock(t)
	srv.now = clk.Wall
	srv.ttl = 7 * 24 * time.Hour
	e := newEngine(t, srv, t.TempDir(), fpA, withNow(clk.Now))
	activateKey(t, e)
	srv.set(func(s *testServer) { s.unreachable = true })
	for range 70 {
		clk.Sleep(time.Minute)
		clk.SetBack(59 * time.Second)
		e.refresh()
	}
	if ent := e.Entitlement(""); ent.State != agentapi.StateTampered {
		t.Fatalf("a clock slowed to 1/60 for 70 minutes: %+v", ent)
	}
}

// Honest clocks: a suspended computer (the wall clock runs, the monotonic
// one stops) and a clock set forward earn nothing and cost nothing.
func TestHonestClockKeepsBudget(t *testing.T) {
	_, clk, dir, e := activatedOnOSClock(t)
	for range 10 {
		clk.SetForward(8 * time.Hour) // suspended for the night
		clk.Sleep(time.Hour)
		e.refresh()
	}
	e.mu.Lock()
	debt := e.st.ClockSetBack
	e.mu.Unlock()
	if debt != 0 {
		t.Fatalf("suspends charged %v", debt)
	}
	if ent := e.Entitlement(""); ent.State == agentapi.StateTampered {
		t.Fatalf("%+v", ent)
	}
	data, err := os.ReadFile(filepath.Join(dir, state.FileName))
	if err != nil || !strings.Contains(string(data), "clock_seen") {
		t.Fatalf("the last clock reading is not persisted: %v", err)
	}
}

// Offline, the last clock reading is saved every minute: a restart measures
// a set-back against it, so a stale reading would let each stop-and-set-back
// cycle gain the staleness (ten minutes before).
func TestOfflineClockReadingSavedEveryTick(t *testing.T) {
	srv, clk, dir, e := activatedOnOSClock(t)
	srv.set(func(s *testServer) { s.unreachable = true })
	_ = e.CheckNow(context.Background()) // offline from now on
	for range 5 {
		clk.Sleep(tickInterval)
		e.refresh()
	}
	saved, err := state.NewStore(dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	if lag := clk.Wall().Sub(saved.ClockSeen); lag > tickInterval {
		t.Fatalf("the saved clock reading lags %v behind while offline", lag)
	}
	// Stopped now, the clock set back five minutes: the restart charges it.
	clk.SetBack(5 * time.Minute)
	e = newEngine(t, srv, dir, fpA, withNow(clk.Now))
	e.mu.Lock()
	debt := e.st.ClockSetBack
	e.mu.Unlock()
	if debt < 5*time.Minute {
		t.Fatalf("set-back across a restart charged %v, want 5m", debt)
	}
}

// activatedOnOSClock is an engine activated against a test server, both on
// one OS-like clock (wall and monotonic readings) and week-long leases.
func activatedOnOSClock(t *testing.T) (*testServer, *osClock, string, *Engine) {
	t.Helper()
	srv := newTestServer(t)
	clk := newOSClock(t)
	srv.now = clk.Wall
	srv.ttl = 7 * 24 * time.Hour
	dir := t.TempDir()
	e := newEngine(t, srv, dir, fpA, withNow(clk.Now))
	activateKey(t, e)
	return srv, clk, dir, e
}
