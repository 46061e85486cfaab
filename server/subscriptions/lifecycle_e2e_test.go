package subscriptions_test

import (
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestFromOrderToRenewal runs the whole purchase with the real orders
// domain: a paid order's seats make a subscription, a seat assigned to a
// member activates a computer, the renewal job raises a renewal order
// before the term ends, and paying it moves the license's term, so the
// computer keeps checking in past the first term.
func TestFromOrderToRenewal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, own := f.org("Acme", "acme.test")
		ana := f.member(org, "ana@acme.test")
		ctx, a := f.Ctx, f.App
		plan, err := a.Plans.Create(ctx, "operator:opt_test", adminapi.CreatePlanRequest{Code: "team", Name: "Team", Features: []string{"sign"},
			MaxProfiles: 3, DevicesPerSeat: 2, TermMonths: 12, SeatPriceCents: 4900})
		if err != nil {
			t.Fatal(err)
		}
		actor := "account:" + own
		o, err := a.Orders.Create(ctx, actor, org, []adminapi.LineRequest{{PlanID: plan.ID, Quantity: 3}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Orders.Validate(ctx, actor, org, o.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Orders.Confirm(ctx, actor, org, o.ID, "PO-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Orders.Pay(ctx, "operator:opt_test", o.ID, "VIR-1"); err != nil {
			t.Fatal(err)
		}
		subs, err := a.Subscriptions.List(ctx, org, paging.Request{})
		if err != nil || subs.Total != 1 || subs.Items[0].Seats != 3 {
			t.Fatalf("after payment: %+v, %v", subs, err)
		}
		sub := subs.Items[0]

		lic, _, err := a.Subscriptions.Assign(ctx, admin(org, own), org, sub.ID, ana)
		if err != nil {
			t.Fatal(err)
		}
		if lic.Seats != 2 || lic.Plan.Name != "Team" || !lic.TermEnd.Equal(sub.TermEnd) {
			t.Fatalf("license = %+v", lic)
		}
		act := f.ActivateKey(lic.Key, apptest.FP("ana-laptop"))

		// 20 days before the term ends the renewal order is raised; paying
		// it moves the term by 12 months.
		f.Clock.Advance(sub.TermEnd.Sub(f.Clock.Now()) - 20*24*time.Hour)
		if n, err := a.Orders.RaiseRenewals(ctx, 10); err != nil || n != 1 {
			t.Fatalf("RaiseRenewals = %d, %v", n, err)
		}
		renewal, err := a.Subscriptions.Get(ctx, org, sub.ID)
		if err != nil || renewal.RenewalOrderID == "" {
			t.Fatalf("renewal order = %q, %v", renewal.RenewalOrderID, err)
		}
		if _, err := a.Orders.Pay(ctx, "operator:opt_test", renewal.RenewalOrderID, "VIR-2"); err != nil {
			t.Fatalf("pay the renewal: %v", err)
		}
		after, err := a.Subscriptions.Get(ctx, org, sub.ID)
		if err != nil || !after.TermEnd.Equal(sub.TermEnd.AddDate(1, 0, 0)) || after.RenewalOrderID != "" {
			t.Fatalf("after renewal: %+v, %v", after, err)
		}
		f.Clock.Advance(40 * 24 * time.Hour) // past the first term's end
		if err := f.checkin(act.Credential, apptest.FP("ana-laptop")); err != nil {
			t.Fatalf("check-in in the renewed term: %v", err)
		}
	})
}
