package devices_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func TestCheckin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.Account("owner@example.com")
		long := f.License("owner@example.com", 2, time.Time{})
		short := f.License("owner@example.com", 2, f.Clock.Now().Add(50*time.Hour))
		a := f.ActivateKey(long.Key, fp("a"))
		b := f.ActivateKey(short.Key, fp("b"))
		f.Clock.Advance(time.Hour)
		keys, err := f.Signing.Keys(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name    string
			cred    string
			machine string
			wantExp time.Time
		}{
			{"exp is now plus grace", a.Credential, "a", f.Clock.Now().Add(7 * 24 * time.Hour)},
			{"exp is the term end when sooner", b.Credential, "b", short.TermEnd},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				prof := &protocol.ProfileSummary{Total: 3, Valid: 2, Expiring: 1, Default: "work"}
				resp, err := f.Devices.Checkin(f.Ctx, tc.cred, protocol.CheckinRequest{Fingerprint: fp(tc.machine), Device: protocol.DeviceFacts{Hostname: "renamed"}, Profiles: prof})
				if err != nil {
					t.Fatal(err)
				}
				if resp.Commands == nil || len(resp.Commands) != 0 || resp.CheckinAfter != 900 {
					t.Errorf("response = %+v; want empty non-nil commands and 900 s", resp)
				}
				c, err := lease.Verify(resp.Lease, keys, fp(tc.machine), f.Clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				if c.Expiry != tc.wantExp.Unix() || c.CheckinAt != f.Clock.Now().Add(15*time.Minute).Unix() || c.IssuedAt != f.Clock.Now().Unix() {
					t.Errorf("exp %d chk %d iat %d; want exp %d", c.Expiry, c.CheckinAt, c.IssuedAt, tc.wantExp.Unix())
				}
			})
		}
		devs, err := f.Devices.ListDevices(f.Ctx, acc.ID)
		if err != nil || len(devs) != 2 {
			t.Fatalf("ListDevices = %v, %v", devs, err)
		}
		for _, dv := range devs {
			if dv.Facts.Hostname != "renamed" || dv.Facts.OS != "linux" || dv.Profiles == nil || dv.Profiles.Default != "work" || !dv.LastSeen.Equal(f.Clock.Now()) {
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
				before := f.Snapshot()
				_, err := f.Devices.Checkin(f.Ctx, r.cred, protocol.CheckinRequest{Fingerprint: r.fpr})
				wantCode(t, err, r.code)
				if f.Snapshot() != before {
					t.Errorf("%s: the database changed", r.name)
				}
			}
		})
		t.Run("expired license", func(t *testing.T) {
			f.Clock.Advance(50 * time.Hour)
			_, err := f.Devices.Checkin(f.Ctx, b.Credential, protocol.CheckinRequest{Fingerprint: fp("b")})
			wantCode(t, err, protocol.ErrLicenseExpired)
		})
	})
}

func TestDeactivateAndRelease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		owner := f.Account("owner@example.com")
		stranger := f.Account("stranger@example.com")
		lic := f.License("owner@example.com", 1, time.Time{})

		a := f.ActivateKey(lic.Key, fp("a"))
		_, err := f.Devices.Activate(f.Ctx, keyRequest(lic.Key, fp("b")), "192.0.2.1")
		wantCode(t, err, protocol.ErrNoSeats)

		if err := f.Devices.DeactivateSelf(f.Ctx, a.Credential); err != nil {
			t.Fatal(err)
		}
		if err := f.Devices.DeactivateSelf(f.Ctx, a.Credential); err != nil {
			t.Fatalf("second deactivation: %v", err)
		}
		if f.SeatsUsed(lic.ID) != 0 || f.Audits("device.deactivate") != 1 {
			t.Fatalf("seats_used = %d, audits = %d after deactivating twice; want 0 and 1", f.SeatsUsed(lic.ID), f.Audits("device.deactivate"))
		}
		_, err = f.Devices.Checkin(f.Ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")})
		if e := wantCode(t, err, protocol.ErrDeviceRevoked); !strings.Contains(e.Message, "deactivated on 1 March 2030") || !strings.Contains(e.Message, "activate it again") {
			t.Errorf("revoked message = %q", e.Message)
		}
		wantCode(t, f.Devices.DeactivateSelf(f.Ctx, "unknown"), protocol.ErrInvalidCredentials)

		b := f.ActivateKey(lic.Key, fp("b"))
		before := f.Snapshot()
		wantCode(t, f.Devices.ReleaseDevice(f.Ctx, stranger.ID, b.DeviceID), protocol.ErrNotFound)
		wantCode(t, f.Devices.ReleaseDevice(f.Ctx, owner.ID, "dev_missing"), protocol.ErrNotFound)
		if f.Snapshot() != before {
			t.Fatal("a refused release changed the database")
		}
		_, errs := concurrently(5, func(int) (struct{}, error) { return struct{}{}, f.Devices.ReleaseDevice(f.Ctx, owner.ID, b.DeviceID) })
		for _, err := range errs {
			if err != nil {
				t.Fatalf("release: %v", err)
			}
		}
		if f.SeatsUsed(lic.ID) != 0 || f.Audits("device.release") != 1 {
			t.Fatalf("seats_used = %d, release audits = %d after 5 releases; want 0 and 1", f.SeatsUsed(lic.ID), f.Audits("device.release"))
		}
		// The lost computer is locked out; the seat is free for another.
		_, err = f.Devices.Checkin(f.Ctx, b.Credential, protocol.CheckinRequest{Fingerprint: fp("b")})
		wantCode(t, err, protocol.ErrDeviceRevoked)
		c := f.ActivateKey(lic.Key, fp("c"))
		if c.Existing || c.SeatsUsed != 1 {
			t.Fatalf("activation after release = %+v", c)
		}
		// A computer coming back after deactivation gets a new device.
		f.ActivateKey(lic.Key, fp("c"))
		devs, err := f.Devices.ListDevices(f.Ctx, owner.ID)
		if err != nil || len(devs) != 3 || !devs[0].Active || devs[1].Active || devs[2].Active {
			t.Fatalf("ListDevices = %+v, %v; want the active device first", devs, err)
		}
	})
}

// TestCheckinRefusals covers the refusals that the single check-in statement
// leaves to its slow path, on each dialect: each gives its own error and
// changes nothing.
func TestCheckinRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		f.Account("owner@example.com")
		now := f.Clock.Now()
		lic := f.License("owner@example.com", 3, now.Add(time.Hour))
		a := f.ActivateKey(lic.Key, fp("a"))
		b := f.ActivateKey(lic.Key, fp("b"))
		later, err := f.Licenses.CreateLicense(f.Ctx, licenses.LicenseSpec{OwnerEmail: "owner@example.com", Plan: licenses.Plan{Name: "Pro"}, Seats: 1,
			TermStart: now.Add(-time.Minute), TermEnd: now.Add(48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		c := f.ActivateKey(later.Key, fp("c"))
		if _, err := f.DB.Exec(f.Ctx, "UPDATE licenses SET term_start = ? WHERE id = ?", store.Millis(now.Add(time.Hour)), later.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.DB.Exec(f.Ctx, "UPDATE licenses SET suspended = ? WHERE id = ?", true, lic.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.Devices.DeactivateSelf(f.Ctx, b.Credential); err != nil {
			t.Fatal(err)
		}
		f.Clock.Advance(time.Minute)
		check := func(name, cred, machine, code, text string) {
			t.Helper()
			before := f.Snapshot()
			_, err := f.Devices.Checkin(f.Ctx, cred, protocol.CheckinRequest{Fingerprint: fp(machine), Device: facts("changed")})
			if e := wantCode(t, err, code); !strings.Contains(e.Message, text) {
				t.Errorf("%s: message %q, want it to mention %q", name, e.Message, text)
			}
			if f.Snapshot() != before {
				t.Errorf("%s: the database changed", name)
			}
		}
		check("suspended license", a.Credential, "a", protocol.ErrLicenseSuspended, "suspended")
		check("deactivated device on a suspended license", b.Credential, "b", protocol.ErrDeviceRevoked, "deactivated on 1 March 2030")
		check("term not started", c.Credential, "c", protocol.ErrLicenseExpired, "not valid before")
		check("wrong fingerprint before the license state", a.Credential, "c", protocol.ErrInvalidCredentials, "not recognized")

		if _, err := f.DB.Exec(f.Ctx, "UPDATE licenses SET suspended = ? WHERE id = ?", false, lic.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Devices.Checkin(f.Ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")}); err != nil {
			t.Fatalf("check-in after the suspension is lifted: %v", err)
		}
		// The term end is exclusive, as in usable: at the very millisecond
		// it is expired.
		f.Clock.Advance(lic.TermEnd.Sub(f.Clock.Now()) - time.Millisecond)
		if _, err := f.Devices.Checkin(f.Ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")}); err != nil {
			t.Fatalf("check-in a millisecond before the term end: %v", err)
		}
		f.Clock.Advance(time.Millisecond)
		check("term ended", a.Credential, "a", protocol.ErrLicenseExpired, "expired on")
	})
}

// TestCheckinKeepsUnreportedFacts: facts and profiles the agent does not
// report keep their stored values; reported ones replace them.
func TestCheckinKeepsUnreportedFacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.Account("owner@example.com")
		lic := f.License("owner@example.com", 1, time.Time{})
		a := f.ActivateKey(lic.Key, fp("a"))
		prof := &protocol.ProfileSummary{Total: 2, Valid: 2, Default: "work"}
		if _, err := f.Devices.Checkin(f.Ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a"), Profiles: prof}); err != nil {
			t.Fatal(err)
		}
		f.Clock.Advance(time.Minute)
		if _, err := f.Devices.Checkin(f.Ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a"), Device: protocol.DeviceFacts{AgentVersion: "2.0.0"}}); err != nil {
			t.Fatal(err)
		}
		devs, err := f.Devices.ListDevices(f.Ctx, acc.ID)
		if err != nil || len(devs) != 1 {
			t.Fatalf("ListDevices = %v, %v", devs, err)
		}
		want := facts("host-" + fp("a")[:6])
		want.AgentVersion = "2.0.0"
		if dv := devs[0]; dv.Facts != want || dv.Profiles == nil || *dv.Profiles != *prof || !dv.LastSeen.Equal(f.Clock.Now()) {
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
		acc := f.Account("owner@example.com")
		lic := f.License("owner@example.com", 1, time.Time{})
		a := f.ActivateKey(lic.Key, fp("a"))
		f.Clock.Advance(time.Minute)
		req := protocol.CheckinRequest{Fingerprint: fp("a"), Device: protocol.DeviceFacts{Hostname: "slow"}}
		resp, err := f.Devices.CheckinSlow(f.Ctx, a.Credential, req, f.Clock.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := f.Signing.Keys(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lease.Verify(resp.Lease, keys, fp("a"), f.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		devs, err := f.Devices.ListDevices(f.Ctx, acc.ID)
		if err != nil || len(devs) != 1 || devs[0].Facts.Hostname != "slow" || devs[0].Facts.OS != "linux" || !devs[0].LastSeen.Equal(f.Clock.Now()) {
			t.Fatalf("ListDevices = %+v, %v", devs, err)
		}
		if !strings.Contains(logs.String(), "slow path") {
			t.Errorf("the slow path did not say it recorded the check-in; logs:\n%s", logs.String())
		}
		// An ordinary check-in is the single statement, not the slow path.
		logs.Reset()
		if _, err := f.Devices.Checkin(f.Ctx, a.Credential, req); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(logs.String(), "slow path") {
			t.Errorf("an ordinary check-in took the slow path; logs:\n%s", logs.String())
		}
	})
}
