package devices_test

import (
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func (f *fixture) managedLicense(owner, mode string, seats int) licenses.License {
	f.T.Helper()
	l, err := f.Licenses.CreateLicense(f.Ctx, licenses.LicenseSpec{OwnerEmail: owner, Plan: licenses.Plan{Name: "Team", Features: []string{"sign"}},
		Seats: seats, ManagementMode: mode})
	if err != nil {
		f.T.Fatalf("CreateLicense(mode %q): %v", mode, err)
	}
	return l
}

// verify checks a lease and returns its claims.
func (f *fixture) verify(tok, machine string) *lease.Claims {
	f.T.Helper()
	keys, err := f.Signing.Keys(f.Ctx)
	if err != nil {
		f.T.Fatal(err)
	}
	c, err := lease.Verify(tok, keys, fp(machine), f.Clock.Now())
	if err != nil {
		f.T.Fatalf("verify lease: %v", err)
	}
	return c
}

// TestLeasesCarryManagementMode: every way of getting a lease (license key,
// password, browser sign-in, check-in on both paths) carries the license's
// mode, and names the owner as the managing organization when managed.
func TestLeasesCarryManagementMode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.Account("boss@example.com")
		f.Account("solo@example.com")
		remote := f.managedLicense("boss@example.com", licenses.ManagedRemote, 5)
		plain := f.managedLicense("solo@example.com", licenses.ManagedNot, 1)

		want := func(t *testing.T, how string, c *lease.Claims, mode, org string) {
			t.Helper()
			if c.ManagementMode != mode || c.Organization != org {
				t.Errorf("%s: lease mgmt %q org %q; want %q and %q", how, c.ManagementMode, c.Organization, mode, org)
			}
		}
		k := f.ActivateKey(remote.Key, fp("key"))
		want(t, "license key", f.verify(k.Lease, "key"), licenses.ManagedRemote, "boss@example.com")

		pw, err := f.Devices.Activate(f.Ctx, protocol.ActivateRequest{Method: protocol.MethodPassword, Email: "boss@example.com", Password: testPassword,
			Fingerprint: fp("pw"), Product: "signer", Device: facts("pw")}, testIP)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "password", f.verify(pw.Lease, "pw"), licenses.ManagedRemote, "boss@example.com")

		r := f.StartAuth("browser")
		if err := f.DeviceAuth.ApproveDeviceAuth(f.Ctx, r.UserCode, acc.ID, testIP); err != nil {
			t.Fatal(err)
		}
		da, err := f.DeviceAuth.PollDeviceAuth(f.Ctx, r.DeviceCode)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "browser sign-in", f.verify(da.Lease, "browser"), licenses.ManagedRemote, "boss@example.com")

		f.Clock.Advance(time.Minute)
		req := protocol.CheckinRequest{Fingerprint: fp("key")}
		fast, err := f.Devices.Checkin(f.Ctx, k.Credential, req)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "check-in", f.verify(fast.Lease, "key"), licenses.ManagedRemote, "boss@example.com")
		slow, err := f.Devices.CheckinSlow(f.Ctx, k.Credential, req, f.Clock.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "check-in (slow path)", f.verify(slow.Lease, "key"), licenses.ManagedRemote, "boss@example.com")

		p := f.ActivateKey(plain.Key, fp("plain"))
		want(t, "unmanaged license key", f.verify(p.Lease, "plain"), "", "")
		pc, err := f.Devices.Checkin(f.Ctx, p.Credential, protocol.CheckinRequest{Fingerprint: fp("plain")})
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
		owner := f.Account("boss@example.com")
		remote := f.managedLicense("boss@example.com", licenses.ManagedRemote, 2)
		a := f.ActivateKey(remote.Key, fp("a"))

		before := f.Snapshot()
		err := f.Devices.DeactivateSelf(f.Ctx, a.Credential)
		e := wantCode(t, err, protocol.ErrManagedRemotely)
		if !strings.Contains(e.Message, "managed remotely by boss@example.com") || !strings.Contains(e.Message, "administrator") {
			t.Errorf("refusal message = %q", e.Message)
		}
		if protocol.HTTPStatus(e.Code) != 403 {
			t.Errorf("HTTPStatus(%s) = %d, want 403", e.Code, protocol.HTTPStatus(e.Code))
		}
		if f.Snapshot() != before {
			t.Fatal("the refused self-deactivation changed the database")
		}
		if _, err := f.Devices.Checkin(f.Ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")}); err != nil {
			t.Fatalf("check-in after the refusal: %v", err)
		}

		if err := f.Devices.ReleaseDevice(f.Ctx, owner.ID, a.DeviceID); err != nil {
			t.Fatalf("the owner's release: %v", err)
		}
		if f.SeatsUsed(remote.ID) != 0 || f.Audits("device.release") != 1 || f.Audits("device.deactivate") != 0 {
			t.Fatalf("after release: seats_used %d, release audits %d, deactivate audits %d",
				f.SeatsUsed(remote.ID), f.Audits("device.release"), f.Audits("device.deactivate"))
		}
		// Once released, the computer saying goodbye is the usual no-op.
		if err := f.Devices.DeactivateSelf(f.Ctx, a.Credential); err != nil {
			t.Fatalf("self-deactivation after release: %v", err)
		}
		_, err = f.Devices.Checkin(f.Ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")})
		wantCode(t, err, protocol.ErrDeviceRevoked)

		// The other modes let the person deactivate.
		for _, mode := range []string{licenses.ManagedNot, licenses.ManagedLocal, licenses.ManagedLocalRemote} {
			l := f.managedLicense("boss@example.com", mode, 1)
			dev := f.ActivateKey(l.Key, fp("m-"+mode))
			if err := f.Devices.DeactivateSelf(f.Ctx, dev.Credential); err != nil {
				t.Errorf("mode %q: DeactivateSelf: %v", mode, err)
			}
			if f.SeatsUsed(l.ID) != 0 {
				t.Errorf("mode %q: seat not freed", mode)
			}
		}
	})
}
