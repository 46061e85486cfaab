package subscriptions_test

import (
	"slices"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
	"github.com/entitle/entitle/server/subscriptions"
)

func TestCredit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, _ := f.org("Acme", "acme.test")
		other, _ := f.org("Other", "other.test")
		pro := f.plan("pro", 12, 2)
		team := f.plan("team", 1, 1)
		now := f.Clock.Now()

		id, err := f.credit(subscriptions.CreditSpec{OrganizationID: org, PlanID: pro, Quantity: 5, OrderID: "ord_1", Actor: "operator:opt_test"})
		if err != nil {
			t.Fatalf("Credit new: %v", err)
		}
		got := f.sub(id)
		if want := (subRow{Seats: 5, TermMonths: 12, TermStart: ms(now), TermEnd: ms(now.AddDate(1, 0, 0))}); got != want {
			t.Fatalf("new subscription = %+v, want %+v", got, want)
		}
		if n := f.Audits("subscription.create"); n != 0 {
			t.Fatalf("subscription.create rows = %d, want none: the payment's row tells it", n)
		}

		again, err := f.credit(subscriptions.CreditSpec{OrganizationID: org, PlanID: pro, Quantity: 3, SubscriptionID: id, OrderID: "ord_2", Actor: "operator:opt_test"})
		if err != nil || again != id {
			t.Fatalf("Credit existing = %q, %v; want %q", again, err, id)
		}
		if got := f.sub(id); got.Seats != 8 || got.TermEnd != ms(now.AddDate(1, 0, 0)) {
			t.Fatalf("after credit = %+v, want 8 seats, same term", got)
		}
		if n := f.Audits("subscription.credit"); n != 0 {
			t.Fatalf("subscription.credit rows = %d, want none: the payment's row tells it", n)
		}

		before := f.Snapshot()
		for _, tc := range []struct {
			name string
			spec subscriptions.CreditSpec
			code string
		}{
			{"zero quantity", subscriptions.CreditSpec{OrganizationID: org, PlanID: pro, Quantity: 0}, protocol.ErrInvalidRequest},
			{"too many", subscriptions.CreditSpec{OrganizationID: org, PlanID: pro, Quantity: subscriptions.MaxSeats + 1}, protocol.ErrInvalidRequest},
			{"no organization", subscriptions.CreditSpec{PlanID: pro, Quantity: 1}, protocol.ErrInvalidRequest},
			{"unknown plan", subscriptions.CreditSpec{OrganizationID: org, PlanID: "pln_nope", Quantity: 1}, protocol.ErrNotFound},
			{"other plan", subscriptions.CreditSpec{OrganizationID: org, PlanID: team, Quantity: 1, SubscriptionID: id}, protocol.ErrInvalidRequest},
			{"other organization", subscriptions.CreditSpec{OrganizationID: other, PlanID: pro, Quantity: 1, SubscriptionID: id}, protocol.ErrNotFound},
			{"unknown subscription", subscriptions.CreditSpec{OrganizationID: org, PlanID: pro, Quantity: 1, SubscriptionID: "sub_nope"}, protocol.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.credit(tc.spec)
				apptest.WantCode(t, err, tc.code)
			})
		}
		if after := f.Snapshot(); after != before || f.sub(id).Seats != 8 {
			t.Fatalf("a refused credit changed something:\n%s\n%s", before, after)
		}
	})
}

func TestRenew(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, _ := f.org("Acme", "acme.test")
		id := f.subscription(org, "pro", 3)
		start := f.Clock.Now()
		end := start.AddDate(1, 0, 0)
		renew := func(order string) error {
			return f.DB.InTx(f.Ctx, func(tx *store.Tx) error {
				if err := subscriptions.SetRenewalOrder(f.Ctx, tx, id, order); err != nil {
					return err
				}
				return subscriptions.Renew(f.Ctx, tx, f.Clock.Now(), id, order, "operator:opt_test")
			})
		}

		// Renewed before its end: the new term starts where the old ends.
		if err := renew("ord_r1"); err != nil {
			t.Fatalf("Renew: %v", err)
		}
		if got, want := f.sub(id), (subRow{Seats: 3, TermMonths: 12, TermStart: ms(end), TermEnd: ms(end.AddDate(1, 0, 0))}); got != want {
			t.Fatalf("renewed = %+v, want %+v", got, want)
		}
		// Renewed after its end: the new term starts now.
		f.Clock.Advance(3 * 365 * 24 * time.Hour)
		now := f.Clock.Now()
		if err := renew("ord_r2"); err != nil {
			t.Fatalf("Renew lapsed: %v", err)
		}
		if got, want := f.sub(id), (subRow{Seats: 3, TermMonths: 12, TermStart: ms(now), TermEnd: ms(now.AddDate(1, 0, 0))}); got != want {
			t.Fatalf("renewed lapsed = %+v, want %+v", got, want)
		}
		if n := f.Audits("subscription.renew"); n != 0 {
			t.Fatalf("subscription.renew rows = %d, want none: the paid renewal order's row tells it", n)
		}
		err := f.DB.InTx(f.Ctx, func(tx *store.Tx) error {
			return subscriptions.Renew(f.Ctx, tx, now, "sub_nope", "ord_x", "system")
		})
		apptest.WantCode(t, err, protocol.ErrNotFound)
	})
}

func TestDueForRenewal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, _ := f.org("Acme", "acme.test")
		now := f.Clock.Now()
		// Terms of 1, 2, 3 and 12 months from now.
		monthly := make([]string, 3)
		for i := range monthly {
			monthly[i] = f.subscription(org, "m"+string(rune('1'+i)), 1)
			if _, err := f.DB.Exec(f.Ctx, "UPDATE subscriptions SET term_end = ? WHERE id = ?", ms(now.AddDate(0, i+1, 0)), monthly[i]); err != nil {
				t.Fatal(err)
			}
		}
		f.subscription(org, "y", 1) // a 12-month term: not due
		noRenew := f.subscription(org, "off", 1)
		suspended := f.subscription(org, "susp", 1)
		ended := f.subscription(org, "ended", 1)
		for _, q := range []struct {
			sql string
			arg any
			id  string
		}{
			{"UPDATE subscriptions SET term_end = ?, auto_renew = " + boolSQL(d, false) + " WHERE id = ?", ms(now.AddDate(0, 1, 0)), noRenew},
			{"UPDATE subscriptions SET term_end = ?, suspended_at = 1 WHERE id = ?", ms(now.AddDate(0, 1, 0)), suspended},
			{"UPDATE subscriptions SET term_end = ? WHERE id = ?", ms(now.Add(-time.Hour)), ended},
		} {
			if _, err := f.DB.Exec(f.Ctx, q.sql, q.arg, q.id); err != nil {
				t.Fatal(err)
			}
		}

		due := func(before time.Time, limit int) []string {
			t.Helper()
			var ids []string
			if err := f.DB.InTx(f.Ctx, func(tx *store.Tx) error {
				subs, err := subscriptions.DueForRenewal(f.Ctx, tx, now, before, limit)
				for _, s := range subs {
					ids = append(ids, s.ID)
				}
				return err
			}); err != nil {
				t.Fatalf("DueForRenewal: %v", err)
			}
			return ids
		}
		if got := due(now.AddDate(0, 2, 0), 10); !slices.Equal(got, monthly[:2]) {
			t.Fatalf("due within 2 months = %v, want %v", got, monthly[:2])
		}
		if got := due(now.AddDate(0, 3, 0), 1); !slices.Equal(got, monthly[:1]) {
			t.Fatalf("due with limit 1 = %v, want %v", got, monthly[:1])
		}
		// A subscription with an open renewal order is no longer due;
		// clearing it makes it due again.
		set := func(order string) {
			t.Helper()
			if err := f.DB.InTx(f.Ctx, func(tx *store.Tx) error { return subscriptions.SetRenewalOrder(f.Ctx, tx, monthly[0], order) }); err != nil {
				t.Fatalf("SetRenewalOrder: %v", err)
			}
		}
		set("ord_renew")
		if r := f.sub(monthly[0]).Renewal; r != "ord_renew" {
			t.Fatalf("renewal order = %q", r)
		}
		if got := due(now.AddDate(0, 2, 0), 10); !slices.Equal(got, monthly[1:2]) {
			t.Fatalf("due after a renewal order = %v, want %v", got, monthly[1:2])
		}
		set("")
		if got := due(now.AddDate(0, 2, 0), 10); !slices.Equal(got, monthly[:2]) {
			t.Fatalf("due after clearing = %v, want %v", got, monthly[:2])
		}
		for _, limit := range []int{0, subscriptions.MaxDue + 1} {
			err := f.DB.InTx(f.Ctx, func(tx *store.Tx) error {
				_, err := subscriptions.DueForRenewal(f.Ctx, tx, now, now.AddDate(1, 0, 0), limit)
				return err
			})
			apptest.WantCode(t, err, protocol.ErrInvalidRequest)
		}
		err := f.DB.InTx(f.Ctx, func(tx *store.Tx) error { return subscriptions.SetRenewalOrder(f.Ctx, tx, "sub_nope", "ord_x") })
		apptest.WantCode(t, err, protocol.ErrNotFound)
	})
}

func boolSQL(d store.Dialect, v bool) string {
	switch {
	case d == store.Postgres && v:
		return "TRUE"
	case d == store.Postgres:
		return "FALSE"
	case v:
		return "1"
	}
	return "0"
}
