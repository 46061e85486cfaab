package licensing

import (
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

const verifyURI = "https://licensing.example/device"

func (f *fixture) startAuth(machine string) protocol.DeviceAuthorizeResponse {
	f.t.Helper()
	r, err := f.svc.StartDeviceAuth(f.ctx, protocol.DeviceAuthorizeRequest{Fingerprint: fp(machine), Product: "signer", Device: facts(machine)}, verifyURI)
	if err != nil {
		f.t.Fatalf("StartDeviceAuth: %v", err)
	}
	return r
}

func TestDeviceAuthApprove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.account("owner@example.com")
		lic := f.license("owner@example.com", 2, time.Time{})
		r := f.startAuth("laptop")
		if len(r.UserCode) != 9 || r.UserCode[4] != '-' || r.Interval != 5 || r.ExpiresIn != 600 || len(r.DeviceCode) < 43 {
			t.Fatalf("authorize response = %+v", r)
		}
		if r.VerificationURI != verifyURI || r.VerificationURIComplete != verifyURI+"?user_code="+r.UserCode {
			t.Errorf("verification URIs = %q, %q", r.VerificationURI, r.VerificationURIComplete)
		}

		_, err := f.svc.PollDeviceAuth(f.ctx, r.DeviceCode)
		wantCode(t, err, protocol.ErrAuthorizationPending)
		f.clock.Advance(time.Second)
		_, err = f.svc.PollDeviceAuth(f.ctx, r.DeviceCode)
		wantCode(t, err, protocol.ErrSlowDown)
		f.clock.Advance(5 * time.Second)
		_, err = f.svc.PollDeviceAuth(f.ctx, r.DeviceCode)
		wantCode(t, err, protocol.ErrAuthorizationPending)

		// The person types the code in lower case without the hyphen.
		typed := strings.ToLower(strings.ReplaceAll(r.UserCode, "-", ""))
		info, err := f.svc.DeviceAuthInfo(f.ctx, typed, testIP)
		if err != nil || info.Status != "pending" || info.Facts.Hostname != "laptop" || info.UserCode != r.UserCode {
			t.Fatalf("DeviceAuthInfo = %+v, %v", info, err)
		}
		if err := f.svc.ApproveDeviceAuth(f.ctx, typed, acc.ID, testIP); err != nil {
			t.Fatalf("approve: %v", err)
		}
		wantCode(t, f.svc.ApproveDeviceAuth(f.ctx, typed, acc.ID, testIP), protocol.ErrInvalidRequest)
		if f.count("SELECT COUNT(*) FROM devices") != 0 {
			t.Fatal("approval alone must not activate; the poll does")
		}

		f.clock.Advance(5 * time.Second)
		res, err := f.svc.PollDeviceAuth(f.ctx, r.DeviceCode)
		if err != nil {
			t.Fatalf("poll after approval: %v", err)
		}
		keys, _ := f.svc.Keys(f.ctx)
		if _, err := lease.Verify(res.Lease, keys, fp("laptop"), f.clock.Now()); err != nil || res.SeatsUsed != 1 {
			t.Fatalf("activation from device auth: %+v, lease %v", res, err)
		}
		f.clock.Advance(5 * time.Second)
		_, err = f.svc.PollDeviceAuth(f.ctx, r.DeviceCode)
		wantCode(t, err, protocol.ErrExpiredToken)
		if f.seatsUsed(lic.ID) != 1 || f.count("SELECT COUNT(*) FROM devices") != 1 {
			t.Error("the approval must activate exactly once")
		}
		if info, _ := f.svc.DeviceAuthInfo(f.ctx, r.UserCode, testIP); info.Status != "consumed" {
			t.Errorf("status after use = %q", info.Status)
		}
		if f.audits("device_auth.approve") != 1 || f.audits("device.activate") != 1 {
			t.Error("approval and activation must be audited")
		}
	})
}

func TestDeviceAuthConcurrentPolls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.account("owner@example.com")
		lic := f.license("owner@example.com", 5, time.Time{})
		r := f.startAuth("laptop")
		if err := f.svc.ApproveDeviceAuth(f.ctx, r.UserCode, acc.ID, testIP); err != nil {
			t.Fatal(err)
		}
		_, errs := concurrently(10, func(int) (protocol.ActivateResponse, error) { return f.svc.PollDeviceAuth(f.ctx, r.DeviceCode) })
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			}
		}
		if ok != 1 || f.seatsUsed(lic.ID) != 1 {
			t.Errorf("%d polls activated, seats_used = %d; want exactly one", ok, f.seatsUsed(lic.ID))
		}
	})
}

func TestDeviceAuthDenyAndExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.account("owner@example.com")
		f.license("owner@example.com", 1, time.Time{})

		t.Run("deny", func(t *testing.T) {
			r := f.startAuth("denied")
			if err := f.svc.DenyDeviceAuth(f.ctx, r.UserCode, acc.ID, testIP); err != nil {
				t.Fatal(err)
			}
			_, err := f.svc.PollDeviceAuth(f.ctx, r.DeviceCode)
			wantCode(t, err, protocol.ErrAccessDenied)
			if f.audits("device_auth.deny") != 1 || f.count("SELECT COUNT(*) FROM devices") != 0 {
				t.Error("a denial must be audited and activate nothing")
			}
		})
		t.Run("expiry", func(t *testing.T) {
			r := f.startAuth("slow")
			f.clock.Advance(10*time.Minute + time.Second)
			_, err := f.svc.PollDeviceAuth(f.ctx, r.DeviceCode)
			wantCode(t, err, protocol.ErrExpiredToken)
			wantCode(t, f.svc.ApproveDeviceAuth(f.ctx, r.UserCode, acc.ID, testIP), protocol.ErrExpiredToken)
			if info, err := f.svc.DeviceAuthInfo(f.ctx, r.UserCode, testIP); err != nil || info.Status != "expired" {
				t.Errorf("info = %+v, %v", info, err)
			}
		})
		t.Run("approve needs a license", func(t *testing.T) {
			other := f.account("empty@example.com")
			r := f.startAuth("nolicense")
			before := f.snapshot()
			wantCode(t, f.svc.ApproveDeviceAuth(f.ctx, r.UserCode, other.ID, testIP), protocol.ErrNoLicense)
			if f.snapshot() != before {
				t.Error("a refused approval changed the database")
			}
		})
		t.Run("unknown and malformed", func(t *testing.T) {
			_, err := f.svc.PollDeviceAuth(f.ctx, "nonsense")
			wantCode(t, err, protocol.ErrExpiredToken)
			_, err = f.svc.PollDeviceAuth(f.ctx, "")
			wantCode(t, err, protocol.ErrInvalidRequest)
			_, err = f.svc.DeviceAuthInfo(f.ctx, "BCDF-GHJK", testIP)
			wantCode(t, err, protocol.ErrNotFound)
			_, err = f.svc.DeviceAuthInfo(f.ctx, "AEIO-UUUU", testIP)
			wantCode(t, err, protocol.ErrInvalidRequest)
			_, err = f.svc.StartDeviceAuth(f.ctx, protocol.DeviceAuthorizeRequest{Fingerprint: "x", Product: "signer"}, verifyURI)
			wantCode(t, err, protocol.ErrInvalidRequest)
		})
	})
}

// testIP is the client address of the device-page calls in these tests.
const testIP = "192.0.2.1"

// TestUserCodeGuessingLimit: lookups of codes that match no sign-in are
// limited per client IP, on every path that looks a code up; known codes and
// malformed ones do not count, and the budget refills with time.
func TestUserCodeGuessingLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, func(c *Config) { c.UserCodeFailuresPerIP = RateLimit{PerMinute: 6, Burst: 3} })
		acc := f.account("owner@example.com")
		f.license("owner@example.com", 2, time.Time{})
		r := f.startAuth("laptop")
		const guesser, other = "198.51.100.7", "198.51.100.8"

		for range 5 {
			if _, err := f.svc.DeviceAuthInfo(f.ctx, r.UserCode, guesser); err != nil {
				t.Fatalf("known code: %v", err)
			}
			_, err := f.svc.DeviceAuthInfo(f.ctx, "AEIO-UUUU", guesser)
			wantCode(t, err, protocol.ErrInvalidRequest)
		}
		_, err := f.svc.DeviceAuthInfo(f.ctx, "BCDF-GHJK", guesser)
		wantCode(t, err, protocol.ErrNotFound)
		wantCode(t, f.svc.ApproveDeviceAuth(f.ctx, "BCDF-GHJL", acc.ID, guesser), protocol.ErrNotFound)
		wantCode(t, f.svc.DenyDeviceAuth(f.ctx, "BCDF-GHJM", acc.ID, guesser), protocol.ErrNotFound)

		// The budget is spent: even the right code is refused, and nothing
		// is looked up or changed.
		before := f.snapshot()
		_, err = f.svc.DeviceAuthInfo(f.ctx, r.UserCode, guesser)
		if e := wantCode(t, err, protocol.ErrRateLimited); !strings.Contains(e.Message, "wait a few minutes") {
			t.Errorf("message %q", e.Message)
		}
		wantCode(t, f.svc.ApproveDeviceAuth(f.ctx, r.UserCode, acc.ID, guesser), protocol.ErrRateLimited)
		if f.snapshot() != before {
			t.Error("a refused lookup changed the database")
		}
		// Other addresses are not affected.
		if _, err := f.svc.DeviceAuthInfo(f.ctx, r.UserCode, other); err != nil {
			t.Fatalf("another address: %v", err)
		}
		// At 6 a minute, one more code every 10 s.
		f.clock.Advance(10 * time.Second)
		_, err = f.svc.DeviceAuthInfo(f.ctx, "BCDF-GHJN", guesser)
		wantCode(t, err, protocol.ErrNotFound)
		_, err = f.svc.DeviceAuthInfo(f.ctx, "BCDF-GHJP", guesser)
		wantCode(t, err, protocol.ErrRateLimited)
		f.clock.Advance(10 * time.Second)
		if err := f.svc.ApproveDeviceAuth(f.ctx, r.UserCode, acc.ID, guesser); err != nil {
			t.Fatalf("approve after the wait: %v", err)
		}
	})
}
