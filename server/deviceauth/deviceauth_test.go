package deviceauth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/internal/ratelimit"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

const verifyURI = apptest.VerifyURI

func TestDeviceAuthApprove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.Account("owner@example.com")
		lic := f.License("owner@example.com", 2, time.Time{})
		r := f.StartAuth("laptop")
		if len(r.UserCode) != 9 || r.UserCode[4] != '-' || r.Interval != 5 || r.ExpiresIn != 600 || len(r.DeviceCode) < 43 {
			t.Fatalf("authorize response = %+v", r)
		}
		if r.VerificationURI != verifyURI || r.VerificationURIComplete != verifyURI+"?user_code="+r.UserCode {
			t.Errorf("verification URIs = %q, %q", r.VerificationURI, r.VerificationURIComplete)
		}

		_, err := f.DeviceAuth.PollDeviceAuth(f.Ctx, r.DeviceCode)
		wantCode(t, err, protocol.ErrAuthorizationPending)
		f.Clock.Advance(time.Second)
		_, err = f.DeviceAuth.PollDeviceAuth(f.Ctx, r.DeviceCode)
		wantCode(t, err, protocol.ErrSlowDown)
		// slow_down raised this sign-in's interval to 10 s (RFC 8628 3.5).
		f.Clock.Advance(10 * time.Second)
		_, err = f.DeviceAuth.PollDeviceAuth(f.Ctx, r.DeviceCode)
		wantCode(t, err, protocol.ErrAuthorizationPending)

		// The person types the code in lower case without the hyphen.
		typed := strings.ToLower(strings.ReplaceAll(r.UserCode, "-", ""))
		info, err := f.DeviceAuth.DeviceAuthInfo(f.Ctx, typed, testIP)
		if err != nil || info.Status != "pending" || info.Facts.Hostname != "laptop" || info.UserCode != r.UserCode {
			t.Fatalf("DeviceAuthInfo = %+v, %v", info, err)
		}
		if err := f.DeviceAuth.ApproveDeviceAuth(f.Ctx, typed, acc.ID, testIP); err != nil {
			t.Fatalf("approve: %v", err)
		}
		wantCode(t, f.DeviceAuth.ApproveDeviceAuth(f.Ctx, typed, acc.ID, testIP), protocol.ErrInvalidRequest)
		if f.Count("SELECT COUNT(*) FROM devices") != 0 {
			t.Fatal("approval alone must not activate; the poll does")
		}

		f.Clock.Advance(10 * time.Second)
		res, err := f.DeviceAuth.PollDeviceAuth(f.Ctx, r.DeviceCode)
		if err != nil {
			t.Fatalf("poll after approval: %v", err)
		}
		keys, _ := f.Signing.Keys(f.Ctx)
		if _, err := lease.Verify(res.Lease, keys, fp("laptop"), f.Clock.Now()); err != nil || res.SeatsUsed != 1 {
			t.Fatalf("activation from device auth: %+v, lease %v", res, err)
		}
		f.Clock.Advance(5 * time.Second)
		_, err = f.DeviceAuth.PollDeviceAuth(f.Ctx, r.DeviceCode)
		wantCode(t, err, protocol.ErrExpiredToken)
		if f.SeatsUsed(lic.ID) != 1 || f.Count("SELECT COUNT(*) FROM devices") != 1 {
			t.Error("the approval must activate exactly once")
		}
		if info, _ := f.DeviceAuth.DeviceAuthInfo(f.Ctx, r.UserCode, testIP); info.Status != "consumed" {
			t.Errorf("status after use = %q", info.Status)
		}
		if f.Audits("device_auth.approve") != 1 || f.Audits("device.activate") != 1 {
			t.Error("approval and activation must be audited")
		}
	})
}

func TestDeviceAuthConcurrentPolls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.Account("owner@example.com")
		lic := f.License("owner@example.com", 5, time.Time{})
		r := f.StartAuth("laptop")
		if err := f.DeviceAuth.ApproveDeviceAuth(f.Ctx, r.UserCode, acc.ID, testIP); err != nil {
			t.Fatal(err)
		}
		_, errs := concurrently(10, func(int) (protocol.ActivateResponse, error) { return f.DeviceAuth.PollDeviceAuth(f.Ctx, r.DeviceCode) })
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			}
		}
		if ok != 1 || f.SeatsUsed(lic.ID) != 1 {
			t.Errorf("%d polls activated, seats_used = %d; want exactly one", ok, f.SeatsUsed(lic.ID))
		}
	})
}

func TestDeviceAuthDenyAndExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.Account("owner@example.com")
		f.License("owner@example.com", 1, time.Time{})

		t.Run("deny", func(t *testing.T) {
			r := f.StartAuth("denied")
			if err := f.DeviceAuth.DenyDeviceAuth(f.Ctx, r.UserCode, acc.ID, testIP); err != nil {
				t.Fatal(err)
			}
			_, err := f.DeviceAuth.PollDeviceAuth(f.Ctx, r.DeviceCode)
			wantCode(t, err, protocol.ErrAccessDenied)
			if f.Audits("device_auth.deny") != 1 || f.Count("SELECT COUNT(*) FROM devices") != 0 {
				t.Error("a denial must be audited and activate nothing")
			}
		})
		t.Run("expiry", func(t *testing.T) {
			r := f.StartAuth("slow")
			f.Clock.Advance(10*time.Minute + time.Second)
			_, err := f.DeviceAuth.PollDeviceAuth(f.Ctx, r.DeviceCode)
			wantCode(t, err, protocol.ErrExpiredToken)
			wantCode(t, f.DeviceAuth.ApproveDeviceAuth(f.Ctx, r.UserCode, acc.ID, testIP), protocol.ErrExpiredToken)
			if info, err := f.DeviceAuth.DeviceAuthInfo(f.Ctx, r.UserCode, testIP); err != nil || info.Status != "expired" {
				t.Errorf("info = %+v, %v", info, err)
			}
		})
		t.Run("approve needs a license", func(t *testing.T) {
			other := f.Account("empty@example.com")
			r := f.StartAuth("nolicense")
			before := f.Snapshot()
			wantCode(t, f.DeviceAuth.ApproveDeviceAuth(f.Ctx, r.UserCode, other.ID, testIP), protocol.ErrNoLicense)
			if f.Snapshot() != before {
				t.Error("a refused approval changed the database")
			}
		})
		t.Run("unknown and malformed", func(t *testing.T) {
			_, err := f.DeviceAuth.PollDeviceAuth(f.Ctx, "nonsense")
			wantCode(t, err, protocol.ErrExpiredToken)
			_, err = f.DeviceAuth.PollDeviceAuth(f.Ctx, "")
			wantCode(t, err, protocol.ErrInvalidRequest)
			_, err = f.DeviceAuth.DeviceAuthInfo(f.Ctx, "BCDF-GHJK", testIP)
			wantCode(t, err, protocol.ErrNotFound)
			_, err = f.DeviceAuth.DeviceAuthInfo(f.Ctx, "AEIO-UUUU", testIP)
			wantCode(t, err, protocol.ErrInvalidRequest)
			_, err = f.DeviceAuth.StartDeviceAuth(f.Ctx, protocol.DeviceAuthorizeRequest{Fingerprint: "x", Product: "signer"}, verifyURI, testIP)
			wantCode(t, err, protocol.ErrInvalidRequest)
		})
	})
}

// testIP is the client address of the device-page calls in these tests.

// TestUserCodeGuessingLimit: lookups of codes that match no sign-in are
// limited per client IP, on every path that looks a code up; known codes and
// malformed ones do not count, and the budget refills with time.
func TestUserCodeGuessingLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, func(c *Config) { c.UserCodeFailuresPerIP = ratelimit.Limit{PerMinute: 6, Burst: 3} })
		acc := f.Account("owner@example.com")
		f.License("owner@example.com", 2, time.Time{})
		r := f.StartAuth("laptop")
		const guesser, other = "198.51.100.7", "198.51.100.8"

		for range 5 {
			if _, err := f.DeviceAuth.DeviceAuthInfo(f.Ctx, r.UserCode, guesser); err != nil {
				t.Fatalf("known code: %v", err)
			}
			_, err := f.DeviceAuth.DeviceAuthInfo(f.Ctx, "AEIO-UUUU", guesser)
			wantCode(t, err, protocol.ErrInvalidRequest)
		}
		_, err := f.DeviceAuth.DeviceAuthInfo(f.Ctx, "BCDF-GHJK", guesser)
		wantCode(t, err, protocol.ErrNotFound)
		wantCode(t, f.DeviceAuth.ApproveDeviceAuth(f.Ctx, "BCDF-GHJL", acc.ID, guesser), protocol.ErrNotFound)
		wantCode(t, f.DeviceAuth.DenyDeviceAuth(f.Ctx, "BCDF-GHJM", acc.ID, guesser), protocol.ErrNotFound)

		// The budget is spent: even the right code is refused, and nothing
		// is looked up or changed.
		before := f.Snapshot()
		_, err = f.DeviceAuth.DeviceAuthInfo(f.Ctx, r.UserCode, guesser)
		if e := wantCode(t, err, protocol.ErrRateLimited); !strings.Contains(e.Message, "wait a few minutes") {
			t.Errorf("message %q", e.Message)
		}
		wantCode(t, f.DeviceAuth.ApproveDeviceAuth(f.Ctx, r.UserCode, acc.ID, guesser), protocol.ErrRateLimited)
		if f.Snapshot() != before {
			t.Error("a refused lookup changed the database")
		}
		// Other addresses are not affected.
		if _, err := f.DeviceAuth.DeviceAuthInfo(f.Ctx, r.UserCode, other); err != nil {
			t.Fatalf("another address: %v", err)
		}
		// At 6 a minute, one more code every 10 s.
		f.Clock.Advance(10 * time.Second)
		_, err = f.DeviceAuth.DeviceAuthInfo(f.Ctx, "BCDF-GHJN", guesser)
		wantCode(t, err, protocol.ErrNotFound)
		_, err = f.DeviceAuth.DeviceAuthInfo(f.Ctx, "BCDF-GHJP", guesser)
		wantCode(t, err, protocol.ErrRateLimited)
		f.Clock.Advance(10 * time.Second)
		if err := f.DeviceAuth.ApproveDeviceAuth(f.Ctx, r.UserCode, acc.ID, guesser); err != nil {
			t.Fatalf("approve after the wait: %v", err)
		}
	})
}
