package devices_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/internal/ratelimit"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func TestActivateByLicenseKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		f.Account("owner@example.com")
		lic := f.License("owner@example.com", 2, time.Time{})

		// Typed by a person: lower case, spaces instead of hyphens.
		typed := strings.ToLower(strings.ReplaceAll(lic.Key, "-", " "))
		r := f.ActivateKey(typed, fp("a"))
		if r.Existing || r.SeatsUsed != 1 || r.SeatsTotal != 2 || r.DeviceID == "" || r.Credential == "" {
			t.Fatalf("response = %+v", r)
		}
		if r.CheckinAfter != int((15 * time.Minute).Seconds()) {
			t.Errorf("CheckinAfter = %d", r.CheckinAfter)
		}
		keys, err := f.Signing.Keys(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := lease.Verify(r.Lease, keys, fp("a"), f.Clock.Now())
		if err != nil {
			t.Fatalf("lease does not verify: %v", err)
		}
		if c.Subject != r.DeviceID || c.License.ID != lic.ID || c.Account != "owner@example.com" || c.Product != "signer" || !c.HasFeature("timestamp") {
			t.Errorf("claims = %+v", c)
		}
		if f.SeatsUsed(lic.ID) != 1 || f.Audits("device.activate") != 1 {
			t.Errorf("seats_used = %d, activation audits = %d; want 1, 1", f.SeatsUsed(lic.ID), f.Audits("device.activate"))
		}
		var stored string
		if err := f.DB.QueryRow(f.Ctx, "SELECT credential_hash FROM devices WHERE id = ?", r.DeviceID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored == r.Credential || stored != ids.HashSecret(r.Credential) {
			t.Error("the credential must be stored as its SHA-256, never in clear")
		}
	})
}

func TestReactivationRotatesCredential(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		f.Account("owner@example.com")
		lic := f.License("owner@example.com", 2, time.Time{})
		first := f.ActivateKey(lic.Key, fp("a"))
		second := f.ActivateKey(lic.Key, fp("a"))
		if !second.Existing || second.DeviceID != first.DeviceID || second.Credential == first.Credential || second.SeatsUsed != 1 {
			t.Fatalf("re-activation = %+v, first = %+v", second, first)
		}
		_, err := f.Devices.Checkin(f.Ctx, first.Credential, protocol.CheckinRequest{Fingerprint: fp("a")})
		wantCode(t, err, protocol.ErrInvalidCredentials)
		if _, err := f.Devices.Checkin(f.Ctx, second.Credential, protocol.CheckinRequest{Fingerprint: fp("a")}); err != nil {
			t.Fatalf("check-in with the new credential: %v", err)
		}
		if f.SeatsUsed(lic.ID) != 1 || f.Audits("device.reactivate") != 1 {
			t.Errorf("seats_used = %d, re-activation audits = %d", f.SeatsUsed(lic.ID), f.Audits("device.reactivate"))
		}
	})
}

func TestSeatRace(t *testing.T) {
	for _, seats := range []int{1, 5} {
		t.Run(fmt.Sprint(seats, "seats"), func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, d store.Dialect) {
				f := newFixture(t, d, noChurnLimit)
				f.Account("owner@example.com")
				lic := f.License("owner@example.com", seats, time.Time{})
				const n = 50
				_, errs := concurrently(n, func(i int) (protocol.ActivateResponse, error) {
					return f.Devices.Activate(f.Ctx, keyRequest(lic.Key, fp(fmt.Sprint("machine", i))), "192.0.2.1")
				})
				wins := 0
				for _, err := range errs {
					if err == nil {
						wins++
						continue
					}
					e := wantCode(t, err, protocol.ErrNoSeats)
					if !strings.Contains(e.Message, fmt.Sprintf("all %d seats of license %s", seats, licenses.ShortKey(lic.Key))) {
						t.Errorf("no-seat message = %q", e.Message)
					}
				}
				if wins != seats {
					t.Errorf("%d of %d activations won the %d seats", wins, n, seats)
				}
				if used, devs := f.SeatsUsed(lic.ID), f.Count("SELECT COUNT(*) FROM devices"); used != seats || devs != seats {
					t.Errorf("seats_used = %d, devices = %d; want %d and %d", used, devs, seats, seats)
				}
			})
		})
	}
}

func TestConcurrentReactivation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, noChurnLimit)
		f.Account("owner@example.com")
		lic := f.License("owner@example.com", 3, time.Time{})
		res, errs := concurrently(12, func(int) (protocol.ActivateResponse, error) {
			return f.Devices.Activate(f.Ctx, keyRequest(lic.Key, fp("same")), "192.0.2.1")
		})
		existing := 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("activation %d: %v", i, err)
			}
			if res[i].DeviceID != res[0].DeviceID {
				t.Fatalf("two devices for one fingerprint: %s, %s", res[i].DeviceID, res[0].DeviceID)
			}
			if res[i].Existing {
				existing++
			}
		}
		if existing != len(res)-1 {
			t.Errorf("%d responses say Existing, want %d", existing, len(res)-1)
		}
		if used, devs := f.SeatsUsed(lic.ID), f.Count("SELECT COUNT(*) FROM devices"); used != 1 || devs != 1 {
			t.Errorf("seats_used = %d, devices = %d; want 1 and 1", used, devs)
		}
	})
}

func TestActivateByPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		f.Account("owner@example.com")
		older := f.License("owner@example.com", 1, time.Time{})
		f.Clock.Advance(time.Minute)
		newer := f.License("owner@example.com", 1, time.Time{})
		req := func(machine string) protocol.ActivateRequest {
			return protocol.ActivateRequest{Method: protocol.MethodPassword, Email: "Owner@Example.com", Password: testPassword,
				Fingerprint: fp(machine), Product: "signer", Device: facts(machine)}
		}

		r1, err := f.Devices.Activate(f.Ctx, req("one"), "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		r2, err := f.Devices.Activate(f.Ctx, req("two"), "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if f.SeatsUsed(older.ID) != 1 || f.SeatsUsed(newer.ID) != 1 {
			t.Fatalf("seats: older %d, newer %d; want the oldest filled first, then the next", f.SeatsUsed(older.ID), f.SeatsUsed(newer.ID))
		}
		// Same computer again: its existing seat, not a new one.
		again, err := f.Devices.Activate(f.Ctx, req("two"), "192.0.2.1")
		if err != nil || !again.Existing || again.DeviceID != r2.DeviceID {
			t.Fatalf("re-activation = %+v, %v", again, err)
		}
		before := f.Snapshot()
		_, err = f.Devices.Activate(f.Ctx, req("three"), "192.0.2.1")
		e := wantCode(t, err, protocol.ErrNoSeats)
		if !strings.Contains(e.Message, licenses.ShortKey(older.Key)) {
			t.Errorf("no-seat message %q does not name the license", e.Message)
		}
		if f.Snapshot() != before {
			t.Error("a refused activation changed the database")
		}
		var accountID string
		if err := f.DB.QueryRow(f.Ctx, "SELECT COALESCE(account_id, '') FROM devices WHERE id = ?", r1.DeviceID).Scan(&accountID); err != nil || accountID == "" {
			t.Errorf("device account = %q, %v; want the activating account", accountID, err)
		}

		f.Account("nolicense@example.com")
		nl := req("four")
		nl.Email = "nolicense@example.com"
		_, err = f.Devices.Activate(f.Ctx, nl, "192.0.2.1")
		wantCode(t, err, protocol.ErrNoLicense)
	})
}

func TestActivateRejects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		f.Account("owner@example.com")
		lic := f.License("owner@example.com", 3, time.Time{})
		f.Clock.Advance(time.Second)
		expiring := f.License("owner@example.com", 3, f.Clock.Now().Add(48*time.Hour))
		suspended := f.License("owner@example.com", 3, time.Time{})
		if _, err := f.DB.Exec(f.Ctx, "UPDATE licenses SET suspended = ? WHERE id = ?", true, suspended.ID); err != nil {
			t.Fatal(err)
		}
		f.ActivateKey(lic.Key, fp("existing"))
		f.ActivateKey(expiring.Key, fp("existing"))
		f.Clock.Advance(72 * time.Hour) // past the second license's term

		norm := strings.ReplaceAll(lic.Key, "-", "")
		typo := norm[:3] + string(otherSymbol(norm[3])) + norm[4:]
		good := keyRequest(lic.Key, fp("new"))
		with := func(mod func(*protocol.ActivateRequest)) protocol.ActivateRequest {
			r := good
			mod(&r)
			return r
		}
		tests := []struct {
			name string
			req  protocol.ActivateRequest
			code string
			msg  string
		}{
			{"unknown key", keyRequest(mustKey(t), fp("new")), protocol.ErrUnknownLicense, "no license with the key"},
			{"mistyped key", with(func(r *protocol.ActivateRequest) { r.LicenseKey = typo }), protocol.ErrInvalidRequest, "probably mistyped"},
			{"short key", with(func(r *protocol.ActivateRequest) { r.LicenseKey = norm[:20] }), protocol.ErrInvalidRequest, "has 20 characters"},
			{"expired license", keyRequest(expiring.Key, fp("new")), protocol.ErrLicenseExpired, "expired on"},
			{"suspended license", keyRequest(suspended.Key, fp("new")), protocol.ErrLicenseSuspended, "suspended"},
			{"malformed fingerprint", with(func(r *protocol.ActivateRequest) { r.Fingerprint = "ABC" }), protocol.ErrInvalidRequest, "fingerprint"},
			{"uppercase fingerprint", with(func(r *protocol.ActivateRequest) { r.Fingerprint = strings.ToUpper(fp("x")) }), protocol.ErrInvalidRequest, "fingerprint"},
			{"empty product", with(func(r *protocol.ActivateRequest) { r.Product = "" }), protocol.ErrInvalidRequest, "product"},
			{"huge product", with(func(r *protocol.ActivateRequest) { r.Product = strings.Repeat("p", 500) }), protocol.ErrInvalidRequest, "product"},
			{"huge hostname", with(func(r *protocol.ActivateRequest) { r.Device.Hostname = strings.Repeat("h", 300) }), protocol.ErrInvalidRequest, "hostname"},
			{"control character", with(func(r *protocol.ActivateRequest) { r.Device.OS = "linux\x1b[2J" }), protocol.ErrInvalidRequest, "control"},
			{"unknown method", with(func(r *protocol.ActivateRequest) { r.Method = "magic" }), protocol.ErrInvalidRequest, "unknown activation method"},
			{"no method", with(func(r *protocol.ActivateRequest) { r.Method = "" }), protocol.ErrInvalidRequest, "method is required"},
			{"wrong password", protocol.ActivateRequest{Method: protocol.MethodPassword, Email: "owner@example.com", Password: "wrong password",
				Fingerprint: fp("new"), Product: "signer"}, protocol.ErrInvalidCredentials, "email address or password is wrong"},
			{"unknown email", protocol.ActivateRequest{Method: protocol.MethodPassword, Email: "nobody@example.com", Password: "wrong password",
				Fingerprint: fp("new"), Product: "signer"}, protocol.ErrInvalidCredentials, "email address or password is wrong"},
			{"bad email", protocol.ActivateRequest{Method: protocol.MethodPassword, Email: "owner", Password: testPassword,
				Fingerprint: fp("new"), Product: "signer"}, protocol.ErrInvalidRequest, "not an email address"},
			{"huge password", protocol.ActivateRequest{Method: protocol.MethodPassword, Email: "owner@example.com", Password: strings.Repeat("x", 2000),
				Fingerprint: fp("new"), Product: "signer"}, protocol.ErrInvalidRequest, "password"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before, fails := f.Snapshot(), f.Audits("login.fail")
				_, err := f.Devices.Activate(f.Ctx, tc.req, "192.0.2.7")
				e := wantCode(t, err, tc.code)
				if !strings.Contains(e.Message, tc.msg) {
					t.Errorf("message %q does not contain %q", e.Message, tc.msg)
				}
				after := f.Snapshot()
				// A failed sign-in is journaled (login.fail) and changes
				// nothing else.
				if tc.code == protocol.ErrInvalidCredentials {
					if n := f.Audits("login.fail") - fails; n != 1 {
						t.Errorf("failed sign-in wrote %d login.fail rows; want 1", n)
					}
					before, after = auditCount.ReplaceAllString(before, ""), auditCount.ReplaceAllString(after, "")
				}
				if after != before {
					t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
				}
			})
		}
	})
}

var auditCount = regexp.MustCompile(`audit_events=\d+`)

func TestActivationChurnLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, func(c *Config) { c.ActivationsPerLicense = ratelimit.Limit{PerMinute: 1, Burst: 3} })
		f.Account("owner@example.com")
		lic := f.License("owner@example.com", 10, time.Time{})
		for i := range 3 {
			f.ActivateKey(lic.Key, fp(fmt.Sprint(i)))
		}
		before := f.Snapshot()
		_, err := f.Devices.Activate(f.Ctx, keyRequest(lic.Key, fp("x")), "192.0.2.1")
		wantCode(t, err, protocol.ErrRateLimited)
		if f.Snapshot() != before {
			t.Error("a rate-limited activation changed the database")
		}
		f.Clock.Advance(time.Minute)
		f.ActivateKey(lic.Key, fp("x"))
	})
}

func mustKey(t *testing.T) string {
	t.Helper()
	k, err := apptest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// otherSymbol returns a different symbol of the key alphabet.
func otherSymbol(c byte) byte {
	if c == 'A' {
		return 'B'
	}
	return 'A'
}
