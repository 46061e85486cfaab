package devices_test

import (
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestCredentialNamesItsDevice: an activation's credential is its device id
// (in creation order: its first 48 bits are the activation's millisecond),
// a dot and a secret; a credential naming another device, with a wrong or
// empty secret, or a malformed device id is refused by the check-in, the
// push stream and the self-deactivation alike, and changes nothing.
func TestCredentialNamesItsDevice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		f.Account("owner@example.com")
		lic := f.License("owner@example.com", 3, time.Time{})
		a := f.ActivateKey(lic.Key, fp("a"))
		f.Clock.Advance(time.Second)
		b := f.ActivateKey(lic.Key, fp("b"))
		id, secret, ok := strings.Cut(a.Credential, ".")
		if !ok || id != a.DeviceID || len(secret) != 43 {
			t.Fatalf("credential %q of device %s", a.Credential, a.DeviceID)
		}
		if a.DeviceID >= b.DeviceID || a.DeviceID[:16] == b.DeviceID[:16] {
			t.Fatalf("device ids %s then %s: not in creation order", a.DeviceID, b.DeviceID)
		}
		if _, err := f.Devices.Checkin(f.Ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")}); err != nil {
			t.Fatal(err)
		}
		_, bSecret, _ := strings.Cut(b.Credential, ".")
		before := f.Snapshot()
		for _, bad := range []string{
			b.DeviceID + "." + secret,                  // another device, this secret
			a.DeviceID + "." + bSecret,                 // this device, another's secret
			a.DeviceID + "." + secret + "x",            // a longer secret
			a.DeviceID + ".",                           // no secret
			"." + secret,                               // no device
			strings.ToUpper(a.DeviceID) + "." + secret, // not a device id
			"dev_ø." + secret,
			strings.Repeat("d", 65) + "." + secret,
			secret, // the secret alone: no legacy credential
			"a.b.c",
		} {
			_, err := f.Devices.Checkin(f.Ctx, bad, protocol.CheckinRequest{Fingerprint: fp("a")})
			wantCode(t, err, protocol.ErrInvalidCredentials)
			_, _, err = f.Devices.StreamDevice(f.Ctx, bad)
			wantCode(t, err, protocol.ErrInvalidCredentials)
			wantCode(t, f.Devices.DeactivateSelf(f.Ctx, bad), protocol.ErrInvalidCredentials)
		}
		if after := f.Snapshot(); after != before {
			t.Fatalf("refused credentials changed the database:\n%s\n%s", before, after)
		}
	})
}

// TestLegacyCredentialKeepsWorking: a credential issued before credentials
// named their device (a bare secret, its hash moved to
// device_legacy_credentials by the migration) checks in, streams and
// deactivates; activating the computer again replaces it with one of the
// new form, and the old one is refused from then on.
func TestLegacyCredentialKeepsWorking(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		f.Account("owner@example.com")
		lic := f.License("owner@example.com", 3, time.Time{})
		legacy := map[string]string{}
		for _, m := range []string{"a", "b"} {
			act := f.ActivateKey(lic.Key, fp(m))
			old, err := ids.Token(32)
			if err != nil {
				t.Fatal(err)
			}
			legacy[m] = old
			if _, err := f.DB.Exec(f.Ctx, "UPDATE devices SET credential_hash = ? WHERE id = ?", ids.HashSecret(old), act.DeviceID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.DB.Exec(f.Ctx, "INSERT INTO device_legacy_credentials (credential_hash, device_id) VALUES (?, ?)", ids.HashSecret(old), act.DeviceID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Devices.Checkin(f.Ctx, act.Credential, protocol.CheckinRequest{Fingerprint: fp(m)}); err == nil {
				t.Fatal("the credential the legacy one replaced still checks in")
			}
		}
		if _, err := f.Devices.Checkin(f.Ctx, legacy["a"], protocol.CheckinRequest{Fingerprint: fp("a")}); err != nil {
			t.Fatalf("legacy check-in: %v", err)
		}
		if _, _, err := f.Devices.StreamDevice(f.Ctx, legacy["a"]); err != nil {
			t.Fatalf("legacy stream: %v", err)
		}
		// Another computer's fingerprint with a legacy credential is refused.
		_, err := f.Devices.Checkin(f.Ctx, legacy["a"], protocol.CheckinRequest{Fingerprint: fp("b")})
		wantCode(t, err, protocol.ErrInvalidCredentials)

		again := f.ActivateKey(lic.Key, fp("a"))
		if !again.Existing || !strings.HasPrefix(again.Credential, again.DeviceID+".") {
			t.Fatalf("re-activation: %+v", again)
		}
		_, err = f.Devices.Checkin(f.Ctx, legacy["a"], protocol.CheckinRequest{Fingerprint: fp("a")})
		wantCode(t, err, protocol.ErrInvalidCredentials)
		if _, err := f.Devices.Checkin(f.Ctx, again.Credential, protocol.CheckinRequest{Fingerprint: fp("a")}); err != nil {
			t.Fatal(err)
		}

		if err := f.Devices.DeactivateSelf(f.Ctx, legacy["b"]); err != nil {
			t.Fatalf("legacy deactivation: %v", err)
		}
		_, err = f.Devices.Checkin(f.Ctx, legacy["b"], protocol.CheckinRequest{Fingerprint: fp("b")})
		wantCode(t, err, protocol.ErrDeviceRevoked)
		if got := f.SeatsUsed(lic.ID); got != 1 {
			t.Fatalf("seats used %d, want 1", got)
		}
	})
}
