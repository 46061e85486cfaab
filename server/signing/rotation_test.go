package signing_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func TestKeyRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		f.Account("owner@example.com")
		lic := f.License("owner@example.com", 1, time.Time{})
		a := f.ActivateKey(lic.Key, fp("a"))
		kid, err := f.Signing.RotateKey(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := f.Devices.Checkin(f.Ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")})
		if err != nil {
			t.Fatal(err)
		}
		keys, err := f.Signing.Keys(f.Ctx)
		if err != nil || keys.Len() != 2 {
			t.Fatalf("Keys() has %d keys, %v; want the old and the new", keys.Len(), err)
		}
		for name, tok := range map[string]string{"old lease": a.Lease, "new lease": resp.Lease} {
			if _, err := lease.Verify(tok, keys, fp("a"), f.Clock.Now()); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if k := f.Signing.SigningKID(); k != kid {
			t.Errorf("signing with %s, want the new key %s", k, kid)
		}
		if f.Audits("key.rotate") != 1 {
			t.Error("rotation not audited")
		}
		// A restarted server signs with the newest key.
		again, err := f.instance()
		if err != nil {
			t.Fatal(err)
		}
		if k := again.Signing.SigningKID(); k != kid {
			t.Errorf("restarted server signs with %s, want %s", k, kid)
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
		f.Account("owner@example.com")
		lic := f.License("owner@example.com", 1, time.Time{})
		a := f.ActivateKey(lic.Key, fp("a"))
		old := leaseKID(t, a.Lease)
		other, err := f.instance()
		if err != nil {
			t.Fatal(err)
		}
		kid, err := other.Signing.RotateKey(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkin := func() string {
			t.Helper()
			resp, err := f.Devices.Checkin(f.Ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")})
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
		if _, err := f.DB.Exec(f.Ctx, "ALTER TABLE signing_keys RENAME TO signing_keys_away"); err != nil {
			t.Fatal(err)
		}
		f.Clock.Advance(10 * time.Second)
		if got := checkin(); got != old {
			t.Fatalf("before the refresh is due, signed with %s; want %s", got, old)
		}
		if _, err := f.DB.Exec(f.Ctx, "ALTER TABLE signing_keys_away RENAME TO signing_keys"); err != nil {
			t.Fatal(err)
		}
		f.Clock.Advance(10 * time.Second)
		if got := checkin(); got != kid {
			t.Fatalf("once the refresh is due, signed with %s; want the rotated key %s", got, kid)
		}
		keys, err := f.Signing.Keys(f.Ctx)
		if err != nil || keys.Len() != 2 {
			t.Fatalf("Keys() has %d keys, %v; want the old and the new", keys.Len(), err)
		}
		// Rotating back on this instance is used here at once, and followed
		// by the other one at its next refresh.
		again, err := f.Signing.RotateKey(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := checkin(); got != again {
			t.Fatalf("after rotating here, signed with %s; want %s", got, again)
		}
		f.Clock.Advance(30 * time.Second)
		resp, err := other.Devices.Checkin(f.Ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")})
		if err != nil {
			t.Fatal(err)
		}
		if got := leaseKID(t, resp.Lease); got != again {
			t.Fatalf("other instance signs with %s; want %s", got, again)
		}
		// A standby key added elsewhere is never picked up by a refresh;
		// its activation elsewhere is, within Config.KeyRefresh.
		standby, err := other.Signing.AddStandbyKey(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.Clock.Advance(20 * time.Second)
		if got := checkin(); got != again {
			t.Fatalf("after a standby key was added elsewhere, signed with %s; want the active %s", got, again)
		}
		if err := other.Signing.ActivateKey(f.Ctx, standby); err != nil {
			t.Fatal(err)
		}
		if got := checkin(); got != again {
			t.Fatalf("right after another instance's activation, signed with %s; want the cached %s until the refresh", got, again)
		}
		f.Clock.Advance(20 * time.Second)
		if got := checkin(); got != standby {
			t.Fatalf("once the refresh is due, signed with %s; want the activated %s", got, standby)
		}
		if keys, err := f.Signing.Keys(f.Ctx); err != nil || keys.Len() != 4 {
			t.Fatalf("Keys() has %d keys, %v; want all 4", keys.Len(), err)
		}
	})
}
