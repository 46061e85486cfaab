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

func (f *fixture) managedLicense(owner, mode string, seats int) License {
	f.t.Helper()
	l, err := f.svc.CreateLicense(f.ctx, LicenseSpec{OwnerEmail: owner, Plan: Plan{Name: "Team", Features: []string{"sign"}},
		Seats: seats, ManagementMode: mode})
	if err != nil {
		f.t.Fatalf("CreateLicense(mode %q): %v", mode, err)
	}
	return l
}

// verify checks a lease and returns its claims.
func (f *fixture) verify(tok, machine string) *lease.Claims {
	f.t.Helper()
	keys, err := f.svc.Keys(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	c, err := lease.Verify(tok, keys, fp(machine), f.clock.Now())
	if err != nil {
		f.t.Fatalf("verify lease: %v", err)
	}
	return c
}

func TestLicenseManagementMode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		f.account("owner@example.com")
		modes := map[string]string{} // license id: mode
		for _, mode := range ManagementModes() {
			l := f.managedLicense("owner@example.com", mode, 1)
			if l.ManagementMode != mode {
				t.Errorf("CreateLicense(mode %q) = mode %q", mode, l.ManagementMode)
			}
			modes[l.ID] = mode
		}
		if n := f.count("SELECT COUNT(*) FROM audit_events WHERE action = 'license.create' AND detail LIKE '%\"management_mode\":\"remote\"%'"); n != 1 {
			t.Errorf("license.create audits naming mode remote = %d, want 1", n)
		}
		ls, err := f.svc.ListLicenses(f.ctx, "")
		if err != nil || len(ls) != len(ManagementModes()) {
			t.Fatalf("ListLicenses = %d, %v", len(ls), err)
		}
		for _, l := range ls {
			if l.ManagementMode != modes[l.ID] {
				t.Errorf("ListLicenses: license %s mode = %q, want %q", l.ID, l.ManagementMode, modes[l.ID])
			}
		}
		for _, bad := range []string{"Remote", "admin", " remote", "local-remote"} {
			before := f.snapshot()
			_, err := f.svc.CreateLicense(f.ctx, LicenseSpec{OwnerEmail: "owner@example.com", Plan: Plan{Name: "P"}, Seats: 1, ManagementMode: bad})
			if e := wantCode(t, err, protocol.ErrInvalidRequest); !strings.Contains(e.Message, "management mode") {
				t.Errorf("mode %q: message %q does not name the management mode", bad, e.Message)
			}
			if f.snapshot() != before {
				t.Errorf("mode %q: the refused license changed the database", bad)
			}
		}
		// The database refuses an unknown mode too, whoever writes it.
		if _, err := f.db.Exec(f.ctx, "UPDATE licenses SET management_mode = 'bogus'"); err == nil {
			t.Error("the database accepted management_mode 'bogus'")
		}
	})
}

// TestLeasesCarryManagementMode: every way of getting a lease (license key,
// password, browser sign-in, check-in on both paths) carries the license's
// mode, and names the owner as the managing organization when managed.
func TestLeasesCarryManagementMode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.account("boss@example.com")
		f.account("solo@example.com")
		remote := f.managedLicense("boss@example.com", ManagedRemote, 5)
		plain := f.managedLicense("solo@example.com", ManagedNot, 1)

		want := func(t *testing.T, how string, c *lease.Claims, mode, org string) {
			t.Helper()
			if c.ManagementMode != mode || c.Organization != org {
				t.Errorf("%s: lease mgmt %q org %q; want %q and %q", how, c.ManagementMode, c.Organization, mode, org)
			}
		}
		k := f.activateKey(remote.Key, fp("key"))
		want(t, "license key", f.verify(k.Lease, "key"), ManagedRemote, "boss@example.com")

		pw, err := f.svc.Activate(f.ctx, protocol.ActivateRequest{Method: protocol.MethodPassword, Email: "boss@example.com", Password: testPassword,
			Fingerprint: fp("pw"), Product: "signer", Device: facts("pw")}, testIP)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "password", f.verify(pw.Lease, "pw"), ManagedRemote, "boss@example.com")

		r := f.startAuth("browser")
		if err := f.svc.ApproveDeviceAuth(f.ctx, r.UserCode, acc.ID, testIP); err != nil {
			t.Fatal(err)
		}
		da, err := f.svc.PollDeviceAuth(f.ctx, r.DeviceCode)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "browser sign-in", f.verify(da.Lease, "browser"), ManagedRemote, "boss@example.com")

		f.clock.Advance(time.Minute)
		req := protocol.CheckinRequest{Fingerprint: fp("key")}
		fast, err := f.svc.Checkin(f.ctx, k.Credential, req)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "check-in", f.verify(fast.Lease, "key"), ManagedRemote, "boss@example.com")
		slow, err := f.svc.checkinSlow(f.ctx, k.Credential, req, f.clock.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "check-in (slow path)", f.verify(slow.Lease, "key"), ManagedRemote, "boss@example.com")

		p := f.activateKey(plain.Key, fp("plain"))
		want(t, "unmanaged license key", f.verify(p.Lease, "plain"), "", "")
		pc, err := f.svc.Checkin(f.ctx, p.Credential, protocol.CheckinRequest{Fingerprint: fp("plain")})
		if err != nil {
			t.Fatal(err)
		}
		c := f.verify(pc.Lease, "plain")
		want(t, "unmanaged check-in", c, "", "")
		if c.Account != "solo@example.com" {
			t.Errorf("unmanaged lease account = %q", c.Account)
		}
	})
}

// TestRemoteManagedDeactivation: on a license managed remotely only the
// owner can free a computer's seat; the computer itself is refused.
func TestRemoteManagedDeactivation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		owner := f.account("boss@example.com")
		remote := f.managedLicense("boss@example.com", ManagedRemote, 2)
		a := f.activateKey(remote.Key, fp("a"))

		before := f.snapshot()
		err := f.svc.DeactivateSelf(f.ctx, a.Credential)
		e := wantCode(t, err, protocol.ErrManagedRemotely)
		if !strings.Contains(e.Message, "managed remotely by boss@example.com") || !strings.Contains(e.Message, "administrator") {
			t.Errorf("refusal message = %q", e.Message)
		}
		if protocol.HTTPStatus(e.Code) != 403 {
			t.Errorf("HTTPStatus(%s) = %d, want 403", e.Code, protocol.HTTPStatus(e.Code))
		}
		if f.snapshot() != before {
			t.Fatal("the refused self-deactivation changed the database")
		}
		if _, err := f.svc.Checkin(f.ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")}); err != nil {
			t.Fatalf("check-in after the refusal: %v", err)
		}

		if err := f.svc.ReleaseDevice(f.ctx, owner.ID, a.DeviceID); err != nil {
			t.Fatalf("the owner's release: %v", err)
		}
		if f.seatsUsed(remote.ID) != 0 || f.audits("device.release") != 1 || f.audits("device.deactivate") != 0 {
			t.Fatalf("after release: seats_used %d, release audits %d, deactivate audits %d",
				f.seatsUsed(remote.ID), f.audits("device.release"), f.audits("device.deactivate"))
		}
		// Once released, the computer saying goodbye is the usual no-op.
		if err := f.svc.DeactivateSelf(f.ctx, a.Credential); err != nil {
			t.Fatalf("self-deactivation after release: %v", err)
		}
		_, err = f.svc.Checkin(f.ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")})
		wantCode(t, err, protocol.ErrDeviceRevoked)

		// The other modes let the person deactivate.
		for _, mode := range []string{ManagedNot, ManagedLocal, ManagedLocalRemote} {
			l := f.managedLicense("boss@example.com", mode, 1)
			dev := f.activateKey(l.Key, fp("m-"+mode))
			if err := f.svc.DeactivateSelf(f.ctx, dev.Credential); err != nil {
				t.Errorf("mode %q: DeactivateSelf: %v", mode, err)
			}
			if f.seatsUsed(l.ID) != 0 {
				t.Errorf("mode %q: seat not freed", mode)
			}
		}
	})
}
