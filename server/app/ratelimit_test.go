package app_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ratelimit"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// twoInstances opens two server instances (two pools, two Apps) on one fresh
// database of dialect d, sharing one clock, under cfg.
func twoInstances(t *testing.T, d store.Dialect, cfg app.Config) (a, b *apptest.Fixture) {
	t.Helper()
	dsn := storetest.DSN(t, d)
	c := apptest.NewClock()
	cfg.Issuer, cfg.PasswordHash = apptest.Issuer, apptest.CheapArgon()
	var fs [2]*apptest.Fixture
	for i := range fs {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		db, err := store.Open(ctx, dsn, slog.New(slog.DiscardHandler))
		cancel()
		if err != nil {
			t.Fatalf("open instance %d: %v", i, err)
		}
		t.Cleanup(func() { _ = db.Close() })
		fs[i] = apptest.Open(t, d, db, c, cfg)
	}
	return fs[0], fs[1]
}

func code(err error) string { return fault.CodeOf(err) }

// Issue 11 and 15: servers are stateless behind a load balancer on one
// PostgreSQL, so the sign-in and device sign-in limits are counted in the
// database: failures through instance A use up the limit on instance B.
// Forced to memory, each instance counts on its own (what the shared
// counters fix), which shows the test can fail.
func TestTwoInstancesShareRateLimits(t *testing.T) {
	limit := ratelimit.Limit{PerMinute: 4, Burst: 4}
	for _, tc := range []struct {
		name   string
		where  string
		shared bool
	}{
		{"default on PostgreSQL", app.RateLimitsAuto, true},
		{"forced to memory", app.RateLimitsMemory, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := twoInstances(t, store.Postgres, app.Config{RateLimits: tc.where,
				LoginFailuresPerIP: ratelimit.Limit{Off: true}, LoginFailuresPerAccount: limit, DeviceAuthorizePerIP: limit,
				UserCodeFailuresPerIP: limit})
			if a.App.SharedRateLimits() != tc.shared {
				t.Fatalf("SharedRateLimits() = %v", a.App.SharedRateLimits())
			}
			a.Account("owner@example.com")
			ip := "198.51.100.7"
			// Sign-in failures, alternating between the instances.
			for i := range limit.Burst {
				f := []*apptest.Fixture{a, b}[i%2]
				if _, err := f.Accounts.Login(f.Ctx, "owner@example.com", "wrong password", ip); code(err) != protocol.ErrInvalidCredentials {
					t.Fatalf("failure %d: %v", i+1, err)
				}
			}
			_, errA := a.Accounts.Login(a.Ctx, "owner@example.com", apptest.Password, ip)
			_, errB := b.Accounts.Login(b.Ctx, "owner@example.com", apptest.Password, ip)
			if tc.shared && (code(errA) != protocol.ErrRateLimited || code(errB) != protocol.ErrRateLimited) {
				t.Errorf("after %d failures across both instances: A %v, B %v; want both rate_limited", limit.Burst, errA, errB)
			}
			if !tc.shared && (errA != nil || errB != nil) {
				t.Errorf("in memory, each instance saw %d failures: A %v, B %v; want both signed in", limit.Burst/2, errA, errB)
			}
			// Another address is not limited.
			if _, err := b.Accounts.Login(b.Ctx, "owner@example.com", apptest.Password, "198.51.100.8"); err != nil {
				t.Errorf("sign-in from another address: %v", err)
			}

			// Device sign-ins started, alternating.
			req := protocol.DeviceAuthorizeRequest{Fingerprint: apptest.FP("pc"), Product: "signer", Device: apptest.Facts("pc")}
			for i := range limit.Burst {
				f := []*apptest.Fixture{a, b}[i%2]
				if _, err := f.DeviceAuth.StartDeviceAuth(f.Ctx, req, apptest.VerifyURI, ip); err != nil {
					t.Fatalf("start %d: %v", i+1, err)
				}
			}
			_, errA = a.DeviceAuth.StartDeviceAuth(a.Ctx, req, apptest.VerifyURI, ip)
			_, errB = b.DeviceAuth.StartDeviceAuth(b.Ctx, req, apptest.VerifyURI, ip)
			if tc.shared && (code(errA) != protocol.ErrSlowDown || code(errB) != protocol.ErrSlowDown) {
				t.Errorf("after %d starts across both instances: A %v, B %v; want both slow_down", limit.Burst, errA, errB)
			}
			if !tc.shared && (errA != nil || errB != nil) {
				t.Errorf("in memory: A %v, B %v; want both started", errA, errB)
			}

			// Unknown user codes, alternating.
			for i := range limit.Burst {
				f := []*apptest.Fixture{a, b}[i%2]
				if _, err := f.DeviceAuth.DeviceAuthInfo(f.Ctx, "BCDF-GHJK", ip); code(err) != protocol.ErrNotFound {
					t.Fatalf("lookup %d: %v", i+1, err)
				}
			}
			_, errA = a.DeviceAuth.DeviceAuthInfo(a.Ctx, "BCDF-GHJK", ip)
			if tc.shared && code(errA) != protocol.ErrRateLimited {
				t.Errorf("after %d unknown codes across both instances: %v; want rate_limited", limit.Burst, errA)
			}
			if !tc.shared && code(errA) != protocol.ErrNotFound {
				t.Errorf("in memory: %v; want not_found", errA)
			}

			// The bucket refills at 4 a minute: 15 s later, one more
			// attempt is allowed, on either instance, and only one.
			a.Clock.Advance(15 * time.Second)
			if tc.shared {
				if _, err := b.Accounts.Login(b.Ctx, "owner@example.com", "wrong password", ip); code(err) != protocol.ErrInvalidCredentials {
					t.Errorf("a token later: %v, want invalid_credentials", err)
				}
				if _, err := a.Accounts.Login(a.Ctx, "owner@example.com", apptest.Password, ip); code(err) != protocol.ErrRateLimited {
					t.Errorf("after that token: %v, want rate_limited", err)
				}
			}
			a.Clock.Advance(time.Minute)
			if _, err := b.Accounts.Login(b.Ctx, "owner@example.com", apptest.Password, ip); err != nil {
				t.Errorf("a minute later: %v", err)
			}
		})
	}
}

// The sweep job deletes the counters whose buckets have refilled, and only
// those, on both databases.
func TestRateLimitSweep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := apptest.New(t, d, func(c *app.Config) {
			c.RateLimits = app.RateLimitsDatabase
			c.DeviceAuthorizePerIP = ratelimit.Limit{PerMinute: 10, Burst: 10} // 1 minute windows
		})
		req := protocol.DeviceAuthorizeRequest{Fingerprint: apptest.FP("pc"), Product: "signer", Device: apptest.Facts("pc")}
		start := func(ip string) {
			t.Helper()
			if _, err := f.DeviceAuth.StartDeviceAuth(f.Ctx, req, apptest.VerifyURI, ip); err != nil {
				t.Fatal(err)
			}
		}
		var sweep app.Job
		for _, j := range f.App.Jobs() {
			if j.Name == "ratelimit.sweep" {
				sweep = j
			}
		}
		if sweep.Run == nil {
			t.Fatal("no ratelimit.sweep job")
		}
		start("192.0.2.1")
		start("192.0.2.2")
		f.Clock.Advance(30 * time.Second)
		start("192.0.2.3")
		if n := f.Count("SELECT COUNT(*) FROM rate_counters"); n != 3 {
			t.Fatalf("%d counters, want 3", n)
		}
		// No bucket has refilled yet (10 tokens at 10 a minute take a
		// minute): all kept.
		if err := sweep.Run(f.Ctx); err != nil {
			t.Fatal(err)
		}
		if n := f.Count("SELECT COUNT(*) FROM rate_counters"); n != 3 {
			t.Fatalf("%d counters after a sweep inside their life, want 3", n)
		}
		f.Clock.Advance(31 * time.Second)
		if err := sweep.Run(f.Ctx); err != nil {
			t.Fatal(err)
		}
		if n := f.Count("SELECT COUNT(*) FROM rate_counters"); n != 1 {
			t.Errorf("%d counters after the sweep, want 1 (the recent one)", n)
		}
	})
}

// On SQLite (one instance) the limits stay in memory unless configured.
func TestRateLimitsDefaultToMemoryOnSQLite(t *testing.T) {
	f := apptest.New(t, store.SQLite)
	if f.App.SharedRateLimits() {
		t.Error("SQLite counts rate limits in the database by default")
	}
	for _, j := range f.App.Jobs() {
		if j.Name == "ratelimit.sweep" {
			t.Error("sweep job registered without shared limits")
		}
	}
	if _, err := app.New(f.DB, app.Config{RateLimits: "redis"}); err == nil {
		t.Error("an unknown RateLimits value was accepted")
	}
}
