package signing_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// keyStatuses returns "kid=status" for every key, oldest first.
func (f *fixture) keyStatuses() []string {
	f.T.Helper()
	keys, err := f.Signing.ListKeys(f.Ctx)
	if err != nil {
		f.T.Fatalf("ListKeys: %v", err)
	}
	var out []string
	for _, k := range keys {
		if _, err := lease.DecodePublicKey(k.PublicKey); err != nil {
			f.T.Fatalf("ListKeys: key %s has public key %q: %v", k.KID, k.PublicKey, err)
		}
		out = append(out, k.KID+"="+string(k.Status))
	}
	return out
}

func sameList(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// TestStandbyKey is the safe rotation: a standby key is published but signs
// nothing until it is activated; then it signs, and the old key's leases
// stay valid.
func TestStandbyKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		f.Account("owner@example.com")
		lic := f.License("owner@example.com", 1, time.Time{})
		a := f.ActivateKey(lic.Key, fp("a"))
		old := leaseKID(t, a.Lease)
		checkin := func() string {
			t.Helper()
			resp, err := f.Devices.Checkin(f.Ctx, a.Credential, protocol.CheckinRequest{Fingerprint: fp("a")})
			if err != nil {
				t.Fatal(err)
			}
			return resp.Lease
		}

		standby, err := f.Signing.AddStandbyKey(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		if standby == "" || standby == old {
			t.Fatalf("AddStandbyKey = %q; old key %s", standby, old)
		}
		keys, err := f.Signing.Keys(f.Ctx)
		if err != nil || keys.Len() != 2 {
			t.Fatalf("Keys() has %d keys, %v; want the active and the standby key", keys.Len(), err)
		}
		if got := leaseKID(t, checkin()); got != old {
			t.Fatalf("after adding a standby key, signed with %s; want the active %s", got, old)
		}
		if got, want := f.keyStatuses(), []string{old + "=active", standby + "=standby"}; !sameList(got, want) {
			t.Fatalf("ListKeys = %v, want %v", got, want)
		}
		if f.Audits("key.add") != 1 || f.Audits("key.activate") != 0 {
			t.Fatalf("audits: key.add %d, key.activate %d; want 1, 0", f.Audits("key.add"), f.Audits("key.activate"))
		}
		// A restarted server keeps signing with the active key, not the
		// newer standby one.
		restarted, err := f.instance()
		if err != nil {
			t.Fatal(err)
		}
		if k := restarted.Signing.SigningKID(); k != old {
			t.Fatalf("restarted server signs with %s, want %s", k, old)
		}

		// An unknown key id is not found and changes nothing.
		before := f.Snapshot()
		for _, kid := range []string{"no-such-key", "", old + "x"} {
			wantCode(t, f.Signing.ActivateKey(f.Ctx, kid), protocol.ErrNotFound)
		}
		if after := f.Snapshot(); after != before {
			t.Fatalf("activating an unknown key changed the database:\n%s\n%s", before, after)
		}
		if got := leaseKID(t, checkin()); got != old {
			t.Fatalf("after a refused activation, signed with %s; want %s", got, old)
		}
		if got, want := f.keyStatuses(), []string{old + "=active", standby + "=standby"}; !sameList(got, want) {
			t.Fatalf("after a refused activation ListKeys = %v, want %v", got, want)
		}

		if err := f.Signing.ActivateKey(f.Ctx, standby); err != nil {
			t.Fatal(err)
		}
		fresh := checkin()
		if got := leaseKID(t, fresh); got != standby {
			t.Fatalf("after activation, signed with %s; want %s", got, standby)
		}
		keys, err = f.Signing.Keys(f.Ctx)
		if err != nil || keys.Len() != 2 {
			t.Fatalf("Keys() has %d keys, %v; want both", keys.Len(), err)
		}
		for name, tok := range map[string]string{"lease of the old key": a.Lease, "lease of the new key": fresh} {
			if _, err := lease.Verify(tok, keys, fp("a"), f.Clock.Now()); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if got, want := f.keyStatuses(), []string{old + "=retired", standby + "=active"}; !sameList(got, want) {
			t.Fatalf("after activation ListKeys = %v, want %v", got, want)
		}
		if n := f.Count("SELECT COUNT(*) FROM audit_events WHERE action = ? AND subject = ? AND detail LIKE ?", "key.activate", standby, "%"+old+"%"); n != 1 {
			t.Fatalf("%d key.activate audit events naming %s and the previous %s; want 1", n, standby, old)
		}
		if n := f.Count("SELECT COUNT(*) FROM signing_keys WHERE active = ?", true); n != 1 {
			t.Fatalf("%d active keys, want 1", n)
		}
		restarted, err = f.instance()
		if err != nil {
			t.Fatal(err)
		}
		if k := restarted.Signing.SigningKID(); k != standby {
			t.Fatalf("restarted server signs with %s, want the activated %s", k, standby)
		}

		// Rolling back to the old key is an activation too; the newer key
		// is standby again.
		if err := f.Signing.ActivateKey(f.Ctx, old); err != nil {
			t.Fatal(err)
		}
		if got := leaseKID(t, checkin()); got != old {
			t.Fatalf("after rolling back, signed with %s; want %s", got, old)
		}
		if got, want := f.keyStatuses(), []string{old + "=active", standby + "=standby"}; !sameList(got, want) {
			t.Fatalf("after rolling back ListKeys = %v, want %v", got, want)
		}
		if f.Audits("key.activate") != 2 {
			t.Fatalf("%d key.activate audit events, want 2", f.Audits("key.activate"))
		}
	})
}

// TestConcurrentActivations: two instances activating different keys at
// the same moment leave exactly one active key, every time.
func TestConcurrentActivations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		other, err := f.instance()
		if err != nil {
			t.Fatal(err)
		}
		var kids []string
		for range 3 {
			kid, err := f.Signing.AddStandbyKey(f.Ctx)
			if err != nil {
				t.Fatal(err)
			}
			kids = append(kids, kid)
		}
		const rounds = 25
		for i := range rounds {
			var wg sync.WaitGroup
			var errA, errB error
			wg.Go(func() { errA = f.Signing.ActivateKey(f.Ctx, kids[i%3]) })
			wg.Go(func() { errB = other.Signing.ActivateKey(f.Ctx, kids[(i+1)%3]) })
			wg.Wait()
			if errA != nil || errB != nil {
				t.Fatalf("round %d: %v, %v", i, errA, errB)
			}
			if n := f.Count("SELECT COUNT(*) FROM signing_keys WHERE active = ?", true); n != 1 {
				t.Fatalf("round %d: %d active keys after two concurrent activations, want 1", i, n)
			}
		}
		if f.Audits("key.activate") != 2*rounds {
			t.Fatalf("%d key.activate audit events, want %d", f.Audits("key.activate"), 2*rounds)
		}
		keys, err := f.Signing.Keys(f.Ctx)
		if err != nil || keys.Len() != 4 {
			t.Fatalf("Keys() has %d keys, %v; want 4", keys.Len(), err)
		}
	})
}
