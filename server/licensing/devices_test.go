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
