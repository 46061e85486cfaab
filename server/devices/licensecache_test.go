package devices_test

import (
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// The lease of a check-in carries the license as it is at that check-in:
// a change of plan, features, profile limit, term, subscription flag,
// management mode or owner email shows in the very next lease, on both
// databases (on SQLite the check-in reads the license as one value and only
// its parsing is cached).
func TestCheckinLeaseFollowsLicenseChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, noChurnLimit)
		f.Account("owner@example.com")
		lic := f.License("owner@example.com", 2, time.Time{})
		act := f.ActivateKey(lic.Key, fp("a"))
		keys, err := f.Signing.Keys(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkin := func() *lease.Claims {
			t.Helper()
			resp, err := f.Devices.Checkin(f.Ctx, act.Credential, protocol.CheckinRequest{Fingerprint: fp("a"), Device: facts("a")})
			if err != nil {
				t.Fatal(err)
			}
			c, err := lease.Verify(resp.Lease, keys, fp("a"), f.Clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		before := checkin()
		if before.License.Plan == "" || before.Account != "owner@example.com" {
			t.Fatalf("claims %+v", before)
		}
		checkin() // a second one, as the cache holds the license now
		end := f.Clock.Now().Add(30 * 24 * time.Hour)
		if _, err := f.DB.Exec(f.Ctx, `UPDATE licenses SET plan = 'enterprise', features = '["sign","new"]', max_profiles = 42,
			term_end = ?, subscription = ?, management_mode = 'remote' WHERE id = ?`, store.Millis(end), true, lic.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.DB.Exec(f.Ctx, `UPDATE accounts SET email = 'renamed@example.com' WHERE email = 'owner@example.com'`); err != nil {
			t.Fatal(err)
		}
		after := checkin()
		l := after.License
		if l.Plan != "enterprise" || len(l.Features) != 2 || l.Features[1] != "new" || l.MaxProfiles != 42 || l.TermEnd != end.Unix() ||
			!l.Subscription || after.ManagementMode != "remote" || after.Account != "renamed@example.com" {
			t.Errorf("lease after the change: %+v %+v", after, l)
		}
	})
}
