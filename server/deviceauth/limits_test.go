package deviceauth_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/ratelimit"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func start(f *fixture, machine, ip string) (protocol.DeviceAuthorizeResponse, error) {
	return f.DeviceAuth.StartDeviceAuth(f.Ctx, protocol.DeviceAuthorizeRequest{Fingerprint: fp(machine), Product: "signer", Device: facts(machine)}, verifyURI, ip)
}

// Issue 16 item 4: anonymous starts are limited per client IP.
func TestDeviceAuthStartsLimitedPerIP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, func(c *Config) { c.DeviceAuthorizePerIP = ratelimit.Limit{PerMinute: 6, Burst: 5} })
		for i := range 5 {
			if _, err := start(f, fmt.Sprintf("pc-%d", i), "198.51.100.7"); err != nil {
				t.Fatalf("start %d: %v", i, err)
			}
		}
		for i := range 20 {
			_, err := start(f, fmt.Sprintf("flood-%d", i), "198.51.100.7")
			wantCode(t, err, protocol.ErrSlowDown)
		}
		if n := f.Count("SELECT COUNT(*) FROM device_authorizations"); n != 5 {
			t.Fatalf("%d sign-ins stored, want the 5 allowed", n)
		}
		if _, err := start(f, "other", "198.51.100.8"); err != nil {
			t.Fatalf("another address is limited too: %v", err)
		}
		f.Clock.Advance(10 * time.Second) // one token back at 6 a minute
		if _, err := start(f, "later", "198.51.100.7"); err != nil {
			t.Fatalf("start after the bucket refilled: %v", err)
		}
	})
}

// Issue 16 item 4: the sign-ins waiting at once are bounded, whatever the
// addresses; expired ones do not count.
func TestDeviceAuthPendingBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, func(c *Config) {
			c.MaxPendingDeviceAuths = 3
			c.DeviceAuthorizePerIP = ratelimit.Limit{Off: true}
		})
		for i := range 3 {
			if _, err := start(f, fmt.Sprintf("pc-%d", i), fmt.Sprintf("203.0.113.%d", i)); err != nil {
				t.Fatalf("start %d: %v", i, err)
			}
		}
		for i := range 10 {
			_, err := start(f, fmt.Sprintf("flood-%d", i), fmt.Sprintf("203.0.113.%d", 100+i))
			wantCode(t, err, protocol.ErrSlowDown)
		}
		if n := f.Count("SELECT COUNT(*) FROM device_authorizations"); n != 3 {
			t.Fatalf("%d sign-ins stored, want 3", n)
		}
		f.Clock.Advance(11 * time.Minute) // all three expired
		if _, err := start(f, "after", "203.0.113.50"); err != nil {
			t.Fatalf("start once the others expired: %v", err)
		}
	})
}

// Issue 16 item 4: the sweep job deletes expired sign-ins, and only those;
// a late poll of a deleted one still answers expired_token.
func TestDeviceAuthSweep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		old := f.StartAuth("old-1")
		f.StartAuth("old-2")
		f.Clock.Advance(8 * time.Minute)
		f.StartAuth("fresh")
		f.Clock.Advance(3 * time.Minute) // the old ones expired, fresh has 7 min left
		n, err := f.DeviceAuth.Sweep(f.Ctx, 1000)
		if err != nil || n != 2 {
			t.Fatalf("Sweep = %d, %v; want 2 deleted", n, err)
		}
		if left := f.Count("SELECT COUNT(*) FROM device_authorizations"); left != 1 {
			t.Fatalf("%d rows left, want the fresh one", left)
		}
		if n, err := f.DeviceAuth.Sweep(f.Ctx, 1000); err != nil || n != 0 {
			t.Fatalf("second Sweep = %d, %v", n, err)
		}
		_, err = f.DeviceAuth.PollDeviceAuth(f.Ctx, old.DeviceCode)
		wantCode(t, err, protocol.ErrExpiredToken)
	})
}

// slow_down raises the interval of that sign-in only, by 5 s each time, and
// the raised interval is kept (RFC 8628 section 3.5).
func TestDeviceAuthSlowDownPerSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		a, b := f.StartAuth("a"), f.StartAuth("b")
		poll := func(code string) error { _, err := f.DeviceAuth.PollDeviceAuth(f.Ctx, code); return err }
		wantCode(t, poll(a.DeviceCode), protocol.ErrAuthorizationPending)
		wantCode(t, poll(b.DeviceCode), protocol.ErrAuthorizationPending)
		f.Clock.Advance(time.Second)
		wantCode(t, poll(a.DeviceCode), protocol.ErrSlowDown) // a: 10 s now
		f.Clock.Advance(5 * time.Second)
		wantCode(t, poll(b.DeviceCode), protocol.ErrAuthorizationPending) // b keeps 5 s
		wantCode(t, poll(a.DeviceCode), protocol.ErrSlowDown)             // a: 15 s now
		f.Clock.Advance(10 * time.Second)
		wantCode(t, poll(a.DeviceCode), protocol.ErrSlowDown) // 10 s < 15 s - 3 s; a: 20 s
		f.Clock.Advance(20 * time.Second)
		wantCode(t, poll(a.DeviceCode), protocol.ErrAuthorizationPending)
	})
}
