package orders_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/orders"
	"github.com/entitle/entitle/server/organizations"
	"github.com/entitle/entitle/server/plans"
	"github.com/entitle/entitle/server/store"
)

type fixture struct {
	*apptest.Fixture
	Orders *orders.Service
	Plans  *plans.Service
	n      int
}

const admin = "account:admin"

var operator = authz.Principal{Operator: true, TokenID: "opt_test"}

func newFixture(t *testing.T, d store.Dialect) *fixture {
	t.Helper()
	f := apptest.New(t, d)
	return &fixture{Fixture: f, Orders: f.App.Orders, Plans: f.App.Plans}
}

// plan adds a plan priced cents a seat.
func (f *fixture) plan(cents int64, currency string) plans.Plan {
	f.T.Helper()
	f.n++
	p, err := f.Plans.Create(f.Ctx, "operator:test", adminapi.CreatePlanRequest{Code: fmt.Sprintf("pro-%d", f.n), Name: fmt.Sprintf("Pro %d", f.n),
		Features: []string{"sign"}, MaxProfiles: 3, DevicesPerSeat: 2, TermMonths: 12, SeatPriceCents: cents, Currency: currency})
	if err != nil {
		f.T.Fatal(err)
	}
	return p
}

// org makes an organization (language locale) with an owner and a billing
// contact; it returns its id and the billing contact's email.
func (f *fixture) org(locale string) (string, string) {
	f.T.Helper()
	f.n++
	dom := fmt.Sprintf("org%d.example", f.n)
	owner := f.Account("owner@" + dom)
	o, err := f.App.Organizations.Create(f.Ctx, "account:"+owner.ID, "Société "+dom, owner.ID)
	if err != nil {
		f.T.Fatal(err)
	}
	if _, err := f.App.Organizations.ApproveDomain(f.Ctx, operator, o.ID, dom); err != nil {
		f.T.Fatal(err)
	}
	billing := "compta@" + dom
	f.Account(billing)
	if _, err := f.App.Organizations.AddMember(f.Ctx, operator, o.ID, billing, authz.RoleMember); err != nil {
		f.T.Fatal(err)
	}
	yes := true
	if _, err := f.App.Organizations.ChangeMember(f.Ctx, operator, o.ID, f.accountID(billing), organizations.MemberChange{Billing: &yes}); err != nil {
		f.T.Fatal(err)
	}
	if locale != "" {
		if _, err := f.App.Organizations.Update(f.Ctx, operator, o.ID, organizations.Change{DefaultLocale: &locale}); err != nil {
			f.T.Fatal(err)
		}
	}
	return o.ID, billing
}

func (f *fixture) accountID(email string) string {
	f.T.Helper()
	id, err := f.App.Organizations.AccountIDByEmail(f.Ctx, email)
	if err != nil {
		f.T.Fatal(err)
	}
	return id
}

// validated makes a validated order of qty seats of p.
func (f *fixture) validated(org string, p plans.Plan, qty int) orders.Order {
	f.T.Helper()
	o, err := f.Orders.Create(f.Ctx, admin, org, []adminapi.LineRequest{{PlanID: p.ID, Quantity: qty}})
	if err != nil {
		f.T.Fatal(err)
	}
	if o, err = f.Orders.Validate(f.Ctx, admin, org, o.ID); err != nil {
		f.T.Fatal(err)
	}
	return o
}

// state is what a refused call must leave as it was: the order's row and
// lines, the journal, the outbox, the counters and the subscriptions.
func (f *fixture) state(orderID string) string {
	f.T.Helper()
	var b strings.Builder
	for _, q := range []string{
		"SELECT * FROM orders WHERE id = ?",
		"SELECT * FROM order_lines WHERE order_id = ? ORDER BY id",
	} {
		rows, err := f.DB.Query(f.Ctx, q, orderID)
		if err != nil {
			f.T.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				f.T.Fatal(err)
			}
			fmt.Fprintf(&b, "%v\n", vals)
		}
		rows.Close()
	}
	fmt.Fprintf(&b, "journal=%d mail=%d counters=%d subs=%d", f.Count("SELECT COUNT(*) FROM audit_events"), f.Count("SELECT COUNT(*) FROM mail_outbox"),
		f.Count("SELECT COALESCE(SUM(last), 0) FROM invoice_counters"), f.Count("SELECT COUNT(*) FROM subscriptions"))
	return b.String()
}
