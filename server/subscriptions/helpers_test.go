package subscriptions_test

import (
	"testing"
	"time"

	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/organizations"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/subscriptions"
)

type fixture struct {
	*apptest.Fixture
	Orgs *organizations.Service
}

func newFixture(t testing.TB, d store.Dialect, tweak ...func(*app.Config)) *fixture {
	t.Helper()
	f := apptest.New(t, d, tweak...)
	return &fixture{Fixture: f, Orgs: f.App.Organizations}
}

var operator = authz.Principal{Operator: true, TokenID: "opt_test"}

func admin(org, acc string) authz.Principal {
	return authz.Principal{AccountID: acc, OrgID: org, Role: authz.RoleAdmin}
}

// org makes an organization owned by a new account at domain, with the
// domain approved; it returns the org id and the owner's account id.
func (f *fixture) org(name, domain string) (string, string) {
	f.T.Helper()
	own := f.Account("owner@" + domain).ID
	o, err := f.Orgs.Create(f.Ctx, "account:"+own, name, own)
	if err != nil {
		f.T.Fatal(err)
	}
	if _, err := f.Orgs.ApproveDomain(f.Ctx, operator, o.ID, domain); err != nil {
		f.T.Fatal(err)
	}
	return o.ID, own
}

// member adds a new account with email to org and returns its id.
func (f *fixture) member(org, email string) string {
	f.T.Helper()
	acc := f.Account(email).ID
	if _, err := f.Orgs.AddMember(f.Ctx, operator, org, email, authz.RoleMember); err != nil {
		f.T.Fatalf("AddMember(%s): %v", email, err)
	}
	return acc
}

// plan inserts a row of the plan catalog (owned by server/plans) and
// returns its id.
func (f *fixture) plan(code string, termMonths, devicesPerSeat int) string {
	f.T.Helper()
	id := "pln_" + code
	if _, err := f.DB.Exec(f.Ctx, `INSERT INTO plans (id, code, name, features, max_profiles, devices_per_seat, term_months,
		seat_price_cents, currency, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, code, "Plan "+code, `["sign","timestamp"]`, 5, devicesPerSeat, termMonths, 1000, "EUR", true, f.Clock.Now().UnixMilli()); err != nil {
		f.T.Fatalf("insert plan: %v", err)
	}
	return id
}

// credit runs subscriptions.Credit in its own transaction.
func (f *fixture) credit(c subscriptions.CreditSpec) (string, error) {
	var id string
	err := f.DB.InTx(f.Ctx, func(tx *store.Tx) error {
		var err error
		id, err = subscriptions.Credit(f.Ctx, tx, f.Clock.Now(), c)
		return err
	})
	return id, err
}

// subscription makes a subscription of seats seats of a new 12-month plan
// for org and returns its id.
func (f *fixture) subscription(org, code string, seats int) string {
	f.T.Helper()
	id, err := f.credit(subscriptions.CreditSpec{OrganizationID: org, PlanID: f.plan(code, 12, 2), Quantity: seats, OrderID: "ord_" + code, Actor: "operator:opt_test"})
	if err != nil {
		f.T.Fatalf("Credit: %v", err)
	}
	return id
}

type subRow struct {
	Seats, Assigned, TermMonths int
	TermStart, TermEnd          int64
	Renewal                     string
}

func (f *fixture) sub(id string) subRow {
	f.T.Helper()
	var r subRow
	if err := f.DB.QueryRow(f.Ctx, "SELECT seats, assigned, term_months, term_start, term_end, COALESCE(renewal_order_id, '') FROM subscriptions WHERE id = ?", id).
		Scan(&r.Seats, &r.Assigned, &r.TermMonths, &r.TermStart, &r.TermEnd, &r.Renewal); err != nil {
		f.T.Fatalf("read subscription %s: %v", id, err)
	}
	return r
}

func ms(t time.Time) int64 { return store.Millis(t) }
