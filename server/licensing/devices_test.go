package licensing

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func TestCheckin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.account("owner@example.com")
		long := f.license("owner@example.com", 2, time.Time{})
		short := f.license("owner@example.com", 2, f.clock.Now().Add(50*time.Hour))
		a := f.activateKey(long.Key, fp("a"))
		b := f.activateKey(short.Key, fp("b"))
		f.clock.Advance(time.Hour)
		keys, err := f.svc.Keys(f.ctx)
		if err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name    string
			cred    string
			machine string
			wantExp time.Time
		}{
			{"exp is now plus grace", a.Credential, "a", f.clock.Now().Add(7 * 24 * time.Hour)},
			{"exp is the term end when sooner", b.Credential, "b", short.TermEnd},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				prof := &protocol.ProfileSummary{Total: 3, Valid: 2, Expiring: 1, Default: "work"}
				resp, err := f.svc.Checkin(f.ctx, tc.cred, protocol.CheckinRequest{Fingerprint: fp(tc.machine), Device: protocol.DeviceFacts{Hostname: "renamed"}, Profiles: prof})
				if err != nil {
					t.Fatal(err)
				}
				if resp.Commands == nil || len(resp.Commands) != 0 || resp.CheckinAfter != 900 {
					t.Errorf("response = %+v; want empty non-nil commands and 900 s", resp)
				}
				c, err := lease.Verify(resp.Lease, keys, fp(tc.machine), f.clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				if c.Expiry != tc.wantExp.Unix() || c.CheckinAt != f.clock.Now().Add(15*time.Minute).Unix() || c.IssuedAt != f.clock.Now().Unix() {
					t.Errorf("exp %d chk %d iat %d; want exp %d", c.Expiry, c.CheckinAt, c.IssuedAt, tc.wantExp.Unix())
				}
			})
		}
		devs, err := f.svc.ListDevices(f.ctx, acc.ID)
		if err != nil || len(devs) != 2 {
			t.Fatalf("ListDevices = %v, %v", devs, err)
		}
		for _, dv := range devs {
			if dv.Facts.Hostname != "renamed" || dv.Facts.OS != "linux" || dv.Profiles == nil || dv.Profiles.Default != "work" || !dv.LastSeen.Equal(f.clock.Now()) {
				t.Errorf("device after check-in = %+v (profiles %+v)", dv, dv.Profiles)
			}
		}

		t.Run("refusals change nothing", func(t *testing.T) {
			refusals := []struct {
				name, cred, fpr, code string
			}{
				{"unknown credential", "not-a-credential", fp("a"), protocol.ErrInvalidCredentials},
				{"empty credential", "", fp("a"), protocol.ErrInvalidCredentials},
				{"other computer's fingerprint", a.Credential, fp("b"), protocol.ErrInvalidCredentials},
				{"malformed fingerprint", a.Credential, "zz", protocol.ErrInvalidRequest},
			}
			for _, r := range refusals {
				before := f.snapshot()
				_, err := f.svc.Checkin(f.ctx, r.cred, protocol.CheckinRequest{Fingerprint: r.fpr})
				wantCode(t, err, r.code)
				if f.snapshot() != before {
					t.Errorf("%s: the database changed", r.name)
				}
			}
		})
		t.Run("expired license", func(t *testing.T) {
			f.clock.Advance(50 * time.Hour)
			_, err := f.svc.Checkin(f.ctx, b.Credential, protocol.CheckinRequest{Fingerprint: fp("b")})
			wantCode(t, err, protocol.ErrLicenseExpired)
		})
	})
}

func TestDeactivateAndRelease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		owner := f.account("owner@example.com")
		stranger := f.account("stranger@example.com")
		lic := f.license("owner@example.com", 1, time.Time{})

		a := f.activateKey(lic.Key, fp("a"))
		_, err := f.svc.Activate(f.ctx, keyRequest(lic.Key, fp("b")), "192.0.2.1")
		wantCode(t, err, protocol.ErrNoSeats)

		if err := f.svc.DeactivateSelf(f.ctx, a.Credential); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeactivateSelf(f.ctx, a.Credential); err != nil {
			t.Fatalf("second deactivation: %v", err)
		}
		if f.seatsUsed(lic.ID) != 0 || f.audits("device.deactivate") != 1 {
			t.Fatalf("seats_used = %d, audits = %d after deactivating twice; want 0 and 1", f.seatsUsed(lic.ID), f.audits("device.deactivate"))
		}
		_, err = f.svc.Checkin(f.ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")})
		if e := wantCode(t, err, protocol.ErrDeviceRevoked); !strings.Contains(e.Message, "deactivated on 1 March 2030") || !strings.Contains(e.Message, "activate it again") {
			t.Errorf("revoked message = %q", e.Message)
		}
		wantCode(t, f.svc.DeactivateSelf(f.ctx, "unknown"), protocol.ErrInvalidCredentials)

		b := f.activateKey(lic.Key, fp("b"))
		before := f.snapshot()
		wantCode(t, f.svc.ReleaseDevice(f.ctx, stranger.ID, b.DeviceID), protocol.ErrNotFound)
		wantCode(t, f.svc.ReleaseDevice(f.ctx, owner.ID, "dev_missing"), protocol.ErrNotFound)
		if f.snapshot() != before {
			t.Fatal("a refused release changed the database")
		}
		_, errs := concurrently(5, func(int) (struct{}, error) { return struct{}{}, f.svc.ReleaseDevice(f.ctx, owner.ID, b.DeviceID) })
		for _, err := range errs {
			if err != nil {
				t.Fatalf("release: %v", err)
			}
		}
		if f.seatsUsed(lic.ID) != 0 || f.audits("device.release") != 1 {
			t.Fatalf("seats_used = %d, release audits = %d after 5 releases; want 0 and 1", f.seatsUsed(lic.ID), f.audits("device.release"))
		}
		// The lost computer is locked out; the seat is free for another.
		_, err = f.svc.Checkin(f.ctx, b.Credential, protocol.CheckinRequest{Fingerprint: fp("b")})
		wantCode(t, err, protocol.ErrDeviceRevoked)
		c := f.activateKey(lic.Key, fp("c"))
		if c.Existing || c.SeatsUsed != 1 {
			t.Fatalf("activation after release = %+v", c)
		}
		// A computer coming back after deactivation gets a new device.
		f.activateKey(lic.Key, fp("c"))
		devs, err := f.svc.ListDevices(f.ctx, owner.ID)
		if err != nil || len(devs) != 3 || !devs[0].Active || devs[1].Active || devs[2].Active {
			t.Fatalf("ListDevices = %+v, %v; want the active device first", devs, err)
		}
	})
}

func TestKeyRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		f.account("owner@example.com")
		lic := f.license("owner@example.com", 1, time.Time{})
		a := f.activateKey(lic.Key, fp("a"))
		kid, err := f.svc.RotateKey(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := f.svc.Checkin(f.ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")})
		if err != nil {
			t.Fatal(err)
		}
		keys, err := f.svc.Keys(f.ctx)
		if err != nil || keys.Len() != 2 {
			t.Fatalf("Keys() has %d keys, %v; want the old and the new", keys.Len(), err)
		}
		for name, tok := range map[string]string{"old lease": a.Lease, "new lease": resp.Lease} {
			if _, err := lease.Verify(tok, keys, fp("a"), f.clock.Now()); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if k := f.svc.signer.Load().signer.KeyID(); k != kid {
			t.Errorf("signing with %s, want the new key %s", k, kid)
		}
		if f.audits("key.rotate") != 1 {
			t.Error("rotation not audited")
		}
		// A restarted server signs with the newest key.
		again, err := New(f.db, Config{Now: f.clock.Now, PasswordHash: cheapArgon()})
		if err != nil {
			t.Fatal(err)
		}
		if k := again.signer.Load().signer.KeyID(); k != kid {
			t.Errorf("restarted server signs with %s, want %s", k, kid)
		}
	})
}

// TestCheckinRefusals covers the refusals that the single check-in statement
// leaves to its slow path, on each dialect: each gives its own error and
// changes nothing.
func TestCheckinRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		f.account("owner@example.com")
		now := f.clock.Now()
		lic := f.license("owner@example.com", 3, now.Add(time.Hour))
		a := f.activateKey(lic.Key, fp("a"))
		b := f.activateKey(lic.Key, fp("b"))
		later, err := f.svc.CreateLicense(f.ctx, LicenseSpec{OwnerEmail: "owner@example.com", Plan: Plan{Name: "Pro"}, Seats: 1,
			TermStart: now.Add(-time.Minute), TermEnd: now.Add(48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		c := f.activateKey(later.Key, fp("c"))
		if _, err := f.db.Exec(f.ctx, "UPDATE licenses SET term_start = ? WHERE id = ?", store.Millis(now.Add(time.Hour)), later.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.Exec(f.ctx, "UPDATE licenses SET suspended = ? WHERE id = ?", true, lic.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeactivateSelf(f.ctx, b.Credential); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
		check := func(name, cred, machine, code, text string) {
			t.Helper()
			before := f.snapshot()
			_, err := f.svc.Checkin(f.ctx, cred, protocol.CheckinRequest{Fingerprint: fp(machine), Device: facts("changed")})
			if e := wantCode(t, err, code); !strings.Contains(e.Message, text) {
				t.Errorf("%s: message %q, want it to mention %q", name, e.Message, text)
			}
			if f.snapshot() != before {
				t.Errorf("%s: the database changed", name)
			}
		}
		check("suspended license", a.Credential, "a", protocol.ErrLicenseSuspended, "suspended")
		check("deactivated device on a suspended license", b.Credential, "b", protocol.ErrDeviceRevoked, "deactivated on 1 March 2030")
		check("term not started", c.Credential, "c", protocol.ErrLicenseExpired, "not valid before")
		check("wrong fingerprint before the license state", a.Credential, "c", protocol.ErrInvalidCredentials, "not recognized")

		if _, err := f.db.Exec(f.ctx, "UPDATE licenses SET suspended = ? WHERE id = ?", false, lic.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Checkin(f.ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")}); err != nil {
			t.Fatalf("check-in after the suspension is lifted: %v", err)
		}
		// The term end is exclusive, as in usable: at the very millisecond
		// it is expired.
		f.clock.Advance(lic.TermEnd.Sub(f.clock.Now()) - time.Millisecond)
		if _, err := f.svc.Checkin(f.ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")}); err != nil {
			t.Fatalf("check-in a millisecond before the term end: %v", err)
		}
		f.clock.Advance(time.Millisecond)
		check("term ended", a.Credential, "a", protocol.ErrLicenseExpired, "expired on")
	})
}

// TestCheckinKeepsUnreportedFacts: facts and profiles the agent does not
// report keep their stored values; reported ones replace them.
func TestCheckinKeepsUnreportedFacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.account("owner@example.com")
		lic := f.license("owner@example.com", 1, time.Time{})
		a := f.activateKey(lic.Key, fp("a"))
		prof := &protocol.ProfileSummary{Total: 2, Valid: 2, Default: "work"}
		if _, err := f.svc.Checkin(f.ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a"), Profiles: prof}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
		if _, err := f.svc.Checkin(f.ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a"), Device: protocol.DeviceFacts{AgentVersion: "2.0.0"}}); err != nil {
			t.Fatal(err)
		}
		devs, err := f.svc.ListDevices(f.ctx, acc.ID)
		if err != nil || len(devs) != 1 {
			t.Fatalf("ListDevices = %v, %v", devs, err)
		}
		want := facts("host-" + fp("a")[:6])
		want.AgentVersion = "2.0.0"
		if dv := devs[0]; dv.Facts != want || dv.Profiles == nil || *dv.Profiles != *prof || !dv.LastSeen.Equal(f.clock.Now()) {
			t.Errorf("device = %+v (profiles %+v); want facts %+v, the first profiles and last seen now", dv, dv.Profiles, want)
		}
	})
}

// TestCheckinSlowPathRecords covers the slow path finding nothing to refuse,
// as when a license is unsuspended between the statement and the lookup: it
// records the check-in and issues a lease.
func TestCheckinSlowPathRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		var logs bytes.Buffer
		f := newFixture(t, d, func(c *Config) {
			c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		})
		acc := f.account("owner@example.com")
		lic := f.license("owner@example.com", 1, time.Time{})
		a := f.activateKey(lic.Key, fp("a"))
		f.clock.Advance(time.Minute)
		req := protocol.CheckinRequest{Fingerprint: fp("a"), Device: protocol.DeviceFacts{Hostname: "slow"}}
		resp, err := f.svc.checkinSlow(f.ctx, a.Credential, req, f.clock.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := f.svc.Keys(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lease.Verify(resp.Lease, keys, fp("a"), f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		devs, err := f.svc.ListDevices(f.ctx, acc.ID)
		if err != nil || len(devs) != 1 || devs[0].Facts.Hostname != "slow" || devs[0].Facts.OS != "linux" || !devs[0].LastSeen.Equal(f.clock.Now()) {
			t.Fatalf("ListDevices = %+v, %v", devs, err)
		}
		if !strings.Contains(logs.String(), "slow path") {
			t.Errorf("the slow path did not say it recorded the check-in; logs:\n%s", logs.String())
		}
		// An ordinary check-in is the single statement, not the slow path.
		logs.Reset()
		if _, err := f.svc.Checkin(f.ctx, a.Credential, req); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(logs.String(), "slow path") {
			t.Errorf("an ordinary check-in took the slow path; logs:\n%s", logs.String())
		}
	})
}

// leaseKID returns the key id in a lease's JWS header.
func leaseKID(t *testing.T, tok string) string {
	t.Helper()
	head, _, ok := strings.Cut(tok, ".")
	if !ok {
		t.Fatalf("lease %q is not a JWS", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// TestKeyRotationAcrossInstances: a rotation or activation made by another
// server instance (or `entitle-server keys rotate` / `keys activate`) on the
// same database is followed within
// Config.KeyRefresh, without a restart and without reading keys per lease.
func TestKeyRotationAcrossInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, func(c *Config) { c.KeyRefresh = 20 * time.Second })
		f.account("owner@example.com")
		lic := f.license("owner@example.com", 1, time.Time{})
		a := f.activateKey(lic.Key, fp("a"))
		old := leaseKID(t, a.Lease)
		other, err := New(f.db, Config{Now: f.clock.Now, PasswordHash: cheapArgon()})
		if err != nil {
			t.Fatal(err)
		}
		kid, err := other.RotateKey(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkin := func() string {
			t.Helper()
			resp, err := f.svc.Checkin(f.ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")})
			if err != nil {
				t.Fatal(err)
			}
			return leaseKID(t, resp.Lease)
		}
		if got := checkin(); got != old {
			t.Fatalf("right after another instance's rotation, signed with %s; want the cached %s until the refresh", got, old)
		}
		// No database read per lease: with the key table out of the way,
		// signing still works until the refresh is due.
		if _, err := f.db.Exec(f.ctx, "ALTER TABLE signing_keys RENAME TO signing_keys_away"); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(10 * time.Second)
		if got := checkin(); got != old {
			t.Fatalf("before the refresh is due, signed with %s; want %s", got, old)
		}
		if _, err := f.db.Exec(f.ctx, "ALTER TABLE signing_keys_away RENAME TO signing_keys"); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(10 * time.Second)
		if got := checkin(); got != kid {
			t.Fatalf("once the refresh is due, signed with %s; want the rotated key %s", got, kid)
		}
		keys, err := f.svc.Keys(f.ctx)
		if err != nil || keys.Len() != 2 {
			t.Fatalf("Keys() has %d keys, %v; want the old and the new", keys.Len(), err)
		}
		// Rotating back on this instance is used here at once, and followed
		// by the other one at its next refresh.
		again, err := f.svc.RotateKey(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := checkin(); got != again {
			t.Fatalf("after rotating here, signed with %s; want %s", got, again)
		}
		f.clock.Advance(30 * time.Second)
		resp, err := other.Checkin(f.ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")})
		if err != nil {
			t.Fatal(err)
		}
		if got := leaseKID(t, resp.Lease); got != again {
			t.Fatalf("other instance signs with %s; want %s", got, again)
		}
		// A standby key added elsewhere is never picked up by a refresh;
		// its activation elsewhere is, within Config.KeyRefresh.
		standby, err := other.AddStandbyKey(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(20 * time.Second)
		if got := checkin(); got != again {
			t.Fatalf("after a standby key was added elsewhere, signed with %s; want the active %s", got, again)
		}
		if err := other.ActivateKey(f.ctx, standby); err != nil {
			t.Fatal(err)
		}
		if got := checkin(); got != again {
			t.Fatalf("right after another instance's activation, signed with %s; want the cached %s until the refresh", got, again)
		}
		f.clock.Advance(20 * time.Second)
		if got := checkin(); got != standby {
			t.Fatalf("once the refresh is due, signed with %s; want the activated %s", got, standby)
		}
		if keys, err := f.svc.Keys(f.ctx); err != nil || keys.Len() != 4 {
			t.Fatalf("Keys() has %d keys, %v; want all 4", keys.Len(), err)
		}
	})
}
