package subscriptions_test

import (
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
	"github.com/entitle/entitle/server/subscriptions"
)

func TestSuspendResume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		var nudged nudges
		f := newFixture(t, d, withNudges(&nudged))
		org, own := f.org("Acme", "acme.test")
		ana := f.member(org, "ana@acme.test")
		bob := f.member(org, "bob@acme.test")
		sub := f.subscription(org, "pro", 2)
		lic, _, err := f.App.Subscriptions.Assign(f.Ctx, admin(org, own), org, sub, ana)
		if err != nil {
			t.Fatal(err)
		}
		laptop := f.ActivateKey(lic.Key, apptest.FP("ana-laptop"))
		nudged.take()

		_, err = f.App.Subscriptions.Suspend(f.Ctx, admin(org, own), sub, "")
		apptest.WantCode(t, err, adminapi.ErrForbidden)
		got, err := f.App.Subscriptions.Suspend(f.Ctx, operator, sub, "invoice 2030-000001 unpaid")
		if err != nil || got.Suspended.IsZero() {
			t.Fatalf("Suspend = %+v, %v", got, err)
		}
		if n := nudged.take(); len(n) != 1 || n[0] != laptop.DeviceID {
			t.Fatalf("nudged %v, want the laptop", n)
		}
		apptest.WantCode(t, f.checkin(laptop.Credential, apptest.FP("ana-laptop")), protocol.ErrLicenseSuspended)
		_, _, err = f.App.Subscriptions.Assign(f.Ctx, admin(org, own), org, sub, bob)
		apptest.WantCode(t, err, protocol.ErrLicenseSuspended)
		// Suspending again changes nothing.
		before := f.Snapshot()
		if _, err := f.App.Subscriptions.Suspend(f.Ctx, operator, sub, ""); err != nil {
			t.Fatal(err)
		}
		if after := f.Snapshot(); after != before {
			t.Fatalf("a second suspension changed something")
		}

		if _, err := f.App.Subscriptions.Resume(f.Ctx, operator, sub); err != nil {
			t.Fatalf("Resume: %v", err)
		}
		// The same activation works again: no new activation needed.
		if err := f.checkin(laptop.Credential, apptest.FP("ana-laptop")); err != nil {
			t.Fatalf("check-in after resume: %v", err)
		}
		if f.Audits("subscription.suspend") != 1 || f.Audits("subscription.resume") != 1 {
			t.Fatalf("journal: %d suspend, %d resume rows", f.Audits("subscription.suspend"), f.Audits("subscription.resume"))
		}
	})
}

func TestExtendAndChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		var nudged nudges
		f := newFixture(t, d, withNudges(&nudged))
		org, own := f.org("Acme", "acme.test")
		ana := f.member(org, "ana@acme.test")
		bob := f.member(org, "bob@acme.test")
		sub := f.subscription(org, "pro", 3)
		ent := f.plan("ent", 24, 1)
		p := admin(org, own)
		lic, _, err := f.App.Subscriptions.Assign(f.Ctx, p, org, sub, ana)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.App.Subscriptions.Assign(f.Ctx, p, org, sub, bob); err != nil {
			t.Fatal(err)
		}
		laptop := f.ActivateKey(lic.Key, apptest.FP("ana-laptop"))

		// Extend: the licenses follow the new end.
		end := f.Clock.Now().AddDate(2, 0, 0)
		if _, err := f.App.Subscriptions.Extend(f.Ctx, p, sub, end); !fault.Is(err, adminapi.ErrForbidden) {
			t.Fatalf("admin Extend: %v, want forbidden", err)
		}
		got, err := f.App.Subscriptions.Extend(f.Ctx, operator, sub, end)
		if err != nil || !got.TermEnd.Equal(end) {
			t.Fatalf("Extend = %v, %v", got.TermEnd, err)
		}
		if n := f.Count("SELECT COUNT(*) FROM licenses WHERE subscription_id = ? AND term_end = ?", sub, ms(end)); n != 2 {
			t.Fatalf("%d licenses follow the new end, want 2", n)
		}
		_, err = f.App.Subscriptions.Extend(f.Ctx, operator, sub, f.Clock.Now().AddDate(-1, 0, 0))
		apptest.WantCode(t, err, protocol.ErrInvalidRequest)

		// Change plan: licenses' plan, features and profiles follow, and
		// the computer's next lease carries them.
		nudged.take()
		if _, err := f.App.Subscriptions.Change(f.Ctx, p, org, sub, subscriptions.Change{PlanID: &ent}); !fault.Is(err, adminapi.ErrForbidden) {
			t.Fatalf("admin plan change: %v, want forbidden", err)
		}
		got, err = f.App.Subscriptions.Change(f.Ctx, operator, "", sub, subscriptions.Change{PlanID: &ent})
		if err != nil || got.PlanCode != "ent" {
			t.Fatalf("plan change = %+v, %v", got, err)
		}
		if n := f.Count("SELECT COUNT(*) FROM licenses WHERE subscription_id = ? AND plan = 'Plan ent'", sub); n != 2 {
			t.Fatalf("%d licenses on the new plan, want 2", n)
		}
		if n := nudged.take(); len(n) != 1 {
			t.Fatalf("nudged %v, want the laptop", n)
		}
		resp, err := f.Devices.Checkin(f.Ctx, laptop.Credential, protocol.CheckinRequest{Fingerprint: apptest.FP("ana-laptop"), Device: apptest.Facts("host")})
		if err != nil {
			t.Fatal(err)
		}
		keys, err := f.Signing.Keys(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		claims, err := lease.Verify(resp.Lease, keys, apptest.FP("ana-laptop"), f.Clock.Now())
		if err != nil || claims.License.Plan != "Plan ent" || claims.License.MaxProfiles != 5 {
			t.Fatalf("lease license = %+v, %v; want Plan ent", claims.License, err)
		}

		// Term, auto-renewal, seats.
		six, off, one, five, two := 6, false, 1, 5, 2
		if _, err := f.App.Subscriptions.Change(f.Ctx, p, org, sub, subscriptions.Change{TermMonths: &six}); !fault.Is(err, adminapi.ErrForbidden) {
			t.Fatalf("admin term change: %v, want forbidden", err)
		}
		if _, err := f.App.Subscriptions.Change(f.Ctx, operator, "", sub, subscriptions.Change{TermMonths: &six}); err != nil {
			t.Fatal(err)
		}
		if got, err := f.App.Subscriptions.Change(f.Ctx, p, org, sub, subscriptions.Change{AutoRenew: &off}); err != nil || got.AutoRenew {
			t.Fatalf("auto-renew off = %v, %v", got.AutoRenew, err)
		}
		before := f.Snapshot()
		_, err = f.App.Subscriptions.Change(f.Ctx, p, org, sub, subscriptions.Change{Seats: &one})
		if e := apptest.WantCode(t, err, adminapi.ErrSeatsAssigned); !strings.Contains(e.Message, "release the assigned license first") {
			t.Fatalf("message %q", e.Message)
		}
		_, err = f.App.Subscriptions.Change(f.Ctx, p, org, sub, subscriptions.Change{Seats: &five})
		apptest.WantCode(t, err, adminapi.ErrForbidden)
		if after := f.Snapshot(); after != before {
			t.Fatal("a refused change changed something")
		}
		if got, err := f.App.Subscriptions.Change(f.Ctx, p, org, sub, subscriptions.Change{Seats: &two}); err != nil || got.Seats != 2 {
			t.Fatalf("seats to 2 = %d, %v", got.Seats, err)
		}
		if got := f.sub(sub); got.TermMonths != 6 || got.Seats != 2 {
			t.Fatalf("subscription = %+v", got)
		}
		for action, n := range map[string]int{"subscription.extend": 1, "subscription.plan": 1, "subscription.term": 1, "subscription.auto_renew": 1, "subscription.seats": 1} {
			if got := f.Audits(action); got != n {
				t.Errorf("%s rows = %d, want %d", action, got, n)
			}
		}
		// Renewal uses the new term.
		if err := f.DB.InTx(f.Ctx, func(tx *store.Tx) error {
			return subscriptions.Renew(f.Ctx, tx, f.Clock.Now(), sub, "ord_r", "system")
		}); err != nil {
			t.Fatal(err)
		}
		if got := f.sub(sub); got.TermEnd != ms(end.AddDate(0, 6, 0)) {
			t.Fatalf("renewed to %v, want %v", store.FromMillis(got.TermEnd), end.AddDate(0, 6, 0))
		}
		if n := f.Count("SELECT COUNT(*) FROM licenses WHERE subscription_id = ? AND term_end = ?", sub, ms(end.AddDate(0, 6, 0))); n != 2 {
			t.Fatalf("%d licenses follow the renewal, want 2", n)
		}
	})
}
