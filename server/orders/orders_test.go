package orders_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/mail"
	"github.com/entitle/entitle/server/orders"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestLifecycle walks an order from cart to paid: each transition writes
// one journal row, a retried one returns the order and writes nothing, the
// invoice and the receipt reach the billing contact, and payment credits a
// subscription with the ordered seats.
func TestLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, billing := f.org("fr")
		basic, pro := f.plan(1250, "EUR"), f.plan(123450, "EUR")
		journal := func() int { return f.Count("SELECT COUNT(*) FROM audit_events WHERE organization_id = ?", org) }
		step := func(name string, rows int, fn func() (orders.Order, error)) orders.Order {
			t.Helper()
			before := journal()
			o, err := fn()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if n := journal() - before; n != rows {
				t.Fatalf("%s wrote %d journal rows, want %d", name, n, rows)
			}
			return o
		}
		o := step("create", 1, func() (orders.Order, error) {
			return f.Orders.Create(f.Ctx, admin, org, []adminapi.LineRequest{{PlanID: basic.ID, Quantity: 3}})
		})
		if o.Status != adminapi.OrderCart || o.TotalCents != 3750 {
			t.Fatalf("new cart %+v", o)
		}
		o = step("add line", 1, func() (orders.Order, error) {
			return f.Orders.SetLine(f.Ctx, admin, org, o.ID, adminapi.LineRequest{PlanID: pro.ID, Quantity: 2})
		})
		o = step("change line", 1, func() (orders.Order, error) {
			return f.Orders.SetLine(f.Ctx, admin, org, o.ID, adminapi.LineRequest{PlanID: pro.ID, Quantity: 10})
		})
		step("same line again", 0, func() (orders.Order, error) {
			return f.Orders.SetLine(f.Ctx, admin, org, o.ID, adminapi.LineRequest{PlanID: pro.ID, Quantity: 10})
		})
		if len(o.Lines) != 2 || o.TotalCents != 3750+1234500 {
			t.Fatalf("cart %+v", o)
		}
		i := slices.IndexFunc(o.Lines, func(l orders.Line) bool { return l.PlanID == basic.ID })
		o = step("remove line", 1, func() (orders.Order, error) { return f.Orders.RemoveLine(f.Ctx, admin, org, o.ID, o.Lines[i].ID) })
		// A later price change does not touch the line already written.
		newPrice := int64(99)
		if _, err := f.Plans.Update(f.Ctx, "operator:test", pro.ID, adminapi.UpdatePlanRequest{SeatPriceCents: &newPrice}); err != nil {
			t.Fatal(err)
		}
		o = step("validate", 1, func() (orders.Order, error) { return f.Orders.Validate(f.Ctx, admin, org, o.ID) })
		if o.Status != adminapi.OrderValidated || o.TotalCents != 1234500 || o.Currency != "EUR" {
			t.Fatalf("validated %+v", o)
		}
		step("validate again", 0, func() (orders.Order, error) { return f.Orders.Validate(f.Ctx, admin, org, o.ID) })
		o = step("confirm", 1, func() (orders.Order, error) { return f.Orders.Confirm(f.Ctx, admin, org, o.ID, "BC-2030-17") })
		year := f.Clock.Now().UTC().Year()
		if o.Status != adminapi.OrderConfirmed || o.InvoiceNumber != fmt.Sprintf("%d-000001", year) || o.PurchaseOrder != "BC-2030-17" ||
			!o.Due.Equal(store.FromMillis(store.Millis(f.Clock.Now().Add(30*24*time.Hour)))) || o.Provider != "invoice" {
			t.Fatalf("confirmed %+v", o)
		}
		again := step("confirm again", 0, func() (orders.Order, error) { return f.Orders.Confirm(f.Ctx, admin, org, o.ID, "other") })
		if again.InvoiceNumber != o.InvoiceNumber || again.PurchaseOrder != "BC-2030-17" {
			t.Fatalf("retried confirm changed the order: %+v", again)
		}
		if n := f.Count("SELECT COUNT(*) FROM mail_outbox WHERE kind = ? AND recipient = ?", mail.KindInvoice, billing); n != 1 {
			t.Fatalf("%d invoice mails to the billing contact, want 1", n)
		}
		if n := f.Count("SELECT COUNT(*) FROM mail_outbox WHERE organization_id = ?", org); n != 1 {
			t.Fatalf("%d mails, want only the billing contact's invoice (not the owner's)", n)
		}
		o = step("pay", 1, func() (orders.Order, error) { return f.Orders.Pay(f.Ctx, "operator:test", o.ID, "VIR-884") })
		step("pay again", 0, func() (orders.Order, error) { return f.Orders.Pay(f.Ctx, "operator:test", o.ID, "VIR-884") })
		if o.Status != adminapi.OrderPaid || o.PaymentReference != "VIR-884" || o.Lines[0].SubscriptionID == "" {
			t.Fatalf("paid %+v", o)
		}
		if seats := f.Count("SELECT seats FROM subscriptions WHERE id = ? AND organization_id = ? AND plan_id = ?", o.Lines[0].SubscriptionID, org, pro.ID); seats != 10 {
			t.Fatalf("subscription has %d seats, want 10", seats)
		}
		if n := f.Count("SELECT COUNT(*) FROM mail_outbox WHERE kind = ? AND recipient = ?", mail.KindReceipt, billing); n != 1 {
			t.Fatalf("%d receipts, want 1", n)
		}
		got, err := f.Orders.Get(f.Ctx, org, o.ID)
		if err != nil || got.Status != adminapi.OrderPaid || got.Lines[0].SubscriptionID != o.Lines[0].SubscriptionID {
			t.Fatalf("get %+v %v", got, err)
		}
		page, err := f.Orders.List(f.Ctx, org, paging.Request{})
		if err != nil || page.Total != 1 || page.Items[0].ID != o.ID {
			t.Fatalf("list %+v %v", page, err)
		}
		// Another organization sees none of it.
		other, _ := f.org("")
		_, err = f.Orders.Get(f.Ctx, other, o.ID)
		apptest.WantCode(t, err, protocol.ErrNotFound)
		apptest.WantCode(t, func() error { _, err := f.Orders.Cancel(f.Ctx, admin, other, o.ID); return err }(), protocol.ErrNotFound)
	})
}

// TestWrongStateRefused: every transition from a status that does not
// allow it is refused with order_state and changes nothing.
func TestWrongStateRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, _ := f.org("")
		p := f.plan(500, "EUR")
		make := map[string]func() orders.Order{
			adminapi.OrderCart: func() orders.Order {
				o, err := f.Orders.Create(f.Ctx, admin, org, []adminapi.LineRequest{{PlanID: p.ID, Quantity: 1}})
				if err != nil {
					t.Fatal(err)
				}
				return o
			},
			adminapi.OrderValidated: func() orders.Order { return f.validated(org, p, 1) },
			adminapi.OrderConfirmed: func() orders.Order {
				o := f.validated(org, p, 1)
				o, err := f.Orders.Confirm(f.Ctx, admin, org, o.ID, "")
				if err != nil {
					t.Fatal(err)
				}
				return o
			},
			adminapi.OrderPaid: func() orders.Order {
				o := f.validated(org, p, 1)
				if _, err := f.Orders.Confirm(f.Ctx, admin, org, o.ID, ""); err != nil {
					t.Fatal(err)
				}
				o, err := f.Orders.Pay(f.Ctx, "operator:test", o.ID, "ref")
				if err != nil {
					t.Fatal(err)
				}
				return o
			},
			adminapi.OrderCancelled: func() orders.Order {
				o := f.validated(org, p, 1)
				o, err := f.Orders.Cancel(f.Ctx, admin, org, o.ID)
				if err != nil {
					t.Fatal(err)
				}
				return o
			},
		}
		ops := map[string]func(o orders.Order) error{
			"set line": func(o orders.Order) error {
				_, err := f.Orders.SetLine(f.Ctx, admin, org, o.ID, adminapi.LineRequest{PlanID: p.ID, Quantity: 7})
				return err
			},
			"remove line": func(o orders.Order) error {
				_, err := f.Orders.RemoveLine(f.Ctx, admin, org, o.ID, o.Lines[0].ID)
				return err
			},
			"validate": func(o orders.Order) error { _, err := f.Orders.Validate(f.Ctx, admin, org, o.ID); return err },
			"confirm":  func(o orders.Order) error { _, err := f.Orders.Confirm(f.Ctx, admin, org, o.ID, ""); return err },
			"cancel":   func(o orders.Order) error { _, err := f.Orders.Cancel(f.Ctx, admin, org, o.ID); return err },
			"pay":      func(o orders.Order) error { _, err := f.Orders.Pay(f.Ctx, "operator:test", o.ID, "ref"); return err },
			"invoice": func(o orders.Order) error {
				_, err := f.Orders.RenderInvoice(f.Ctx, org, o.ID, "")
				return err
			},
		}
		// allowed[op] are the statuses op accepts (or returns as done).
		allowed := map[string][]string{
			"set line":    {adminapi.OrderCart},
			"remove line": {adminapi.OrderCart},
			"validate":    {adminapi.OrderCart, adminapi.OrderValidated},
			"confirm":     {adminapi.OrderValidated, adminapi.OrderConfirmed},
			"cancel":      {adminapi.OrderCart, adminapi.OrderValidated, adminapi.OrderConfirmed, adminapi.OrderCancelled},
			"pay":         {adminapi.OrderConfirmed, adminapi.OrderPaid},
			"invoice":     {adminapi.OrderConfirmed, adminapi.OrderPaid},
		}
		for op, fn := range ops {
			for status, mk := range make {
				if slices.Contains(allowed[op], status) {
					continue
				}
				t.Run(op+" "+status, func(t *testing.T) {
					o := mk()
					before := f.state(o.ID)
					apptest.WantCode(t, fn(o), adminapi.ErrOrderState)
					if after := f.state(o.ID); after != before {
						t.Fatalf("refused %s changed state:\n%s\n%s", op, before, after)
					}
				})
			}
		}
	})
}

// TestLineRules: quantities are bounded, only active plans are sold, one
// currency per order, an empty cart does not validate; each refusal
// changes nothing.
func TestLineRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, _ := f.org("")
		eur, usd, old := f.plan(100, "EUR"), f.plan(100, "USD"), f.plan(100, "EUR")
		off := false
		if _, err := f.Plans.Update(f.Ctx, "operator:test", old.ID, adminapi.UpdatePlanRequest{Active: &off}); err != nil {
			t.Fatal(err)
		}
		cart, err := f.Orders.Create(f.Ctx, admin, org, []adminapi.LineRequest{{PlanID: eur.ID, Quantity: 1}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			line adminapi.LineRequest
			code string
		}{
			{"zero", adminapi.LineRequest{PlanID: eur.ID, Quantity: 0}, protocol.ErrInvalidRequest},
			{"too many", adminapi.LineRequest{PlanID: eur.ID, Quantity: 100001}, protocol.ErrInvalidRequest},
			{"inactive plan", adminapi.LineRequest{PlanID: old.ID, Quantity: 1}, adminapi.ErrPlanInactive},
			{"other currency", adminapi.LineRequest{PlanID: usd.ID, Quantity: 1}, adminapi.ErrCurrencyMismatch},
			{"unknown plan", adminapi.LineRequest{PlanID: "plan_none", Quantity: 1}, protocol.ErrNotFound},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := f.state(cart.ID)
				_, err := f.Orders.SetLine(f.Ctx, admin, org, cart.ID, c.line)
				apptest.WantCode(t, err, c.code)
				if after := f.state(cart.ID); after != before {
					t.Fatalf("changed:\n%s\n%s", before, after)
				}
			})
		}
		if _, err := f.Orders.SetLine(f.Ctx, admin, org, cart.ID, adminapi.LineRequest{PlanID: eur.ID, Quantity: 100000}); err != nil {
			t.Fatalf("100000 seats: %v", err)
		}
		empty, err := f.Orders.Create(f.Ctx, admin, org, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Orders.Validate(f.Ctx, admin, org, empty.ID)
		apptest.WantCode(t, err, adminapi.ErrOrderEmpty)
		// A plan leaving the catalog after its line was written stops validation.
		if _, err := f.Plans.Update(f.Ctx, "operator:test", eur.ID, adminapi.UpdatePlanRequest{Active: &off}); err != nil {
			t.Fatal(err)
		}
		_, err = f.Orders.Validate(f.Ctx, admin, org, cart.ID)
		apptest.WantCode(t, err, adminapi.ErrPlanInactive)
	})
}

// TestGaplessInvoiceNumbers confirms many orders at once, from two
// organizations: the numbers are 1..n of the year, each once.
func TestGaplessInvoiceNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		a, _ := f.org("")
		b, _ := f.org("")
		p := f.plan(100, "EUR")
		const n = 24
		var todo []orders.Order
		for i := range n {
			org := a
			if i%2 == 1 {
				org = b
			}
			todo = append(todo, f.validated(org, p, 1+i))
		}
		got, errs := apptest.Concurrently(n, func(i int) (string, error) {
			o, err := f.Orders.Confirm(context.Background(), admin, todo[i].OrganizationID, todo[i].ID, "")
			return o.InvoiceNumber, err
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		year := f.Clock.Now().UTC().Year()
		var want []string
		for i := range n {
			want = append(want, fmt.Sprintf("%d-%06d", year, i+1))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("invoice numbers %v, want %v", got, want)
		}
	})
}

// failing issues the invoice, then fails: the confirmation must roll back
// whole.
type failing struct{ orders.Invoice }

func (p failing) Issue(ctx context.Context, tx *store.Tx, now time.Time, o *orders.Order) error {
	if err := p.Invoice.Issue(ctx, tx, now, o); err != nil {
		return err
	}
	return errors.New("the provider is down")
}

// TestFailedTransactionLeavesNothing: a confirmation whose provider fails
// and a payment whose crediting fails leave no journal row, no mail and no
// invoice number taken.
func TestFailedTransactionLeavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, _ := f.org("")
		p := f.plan(100, "EUR")
		o := f.validated(org, p, 2)
		broken, err := orders.New(f.DB, orders.Config{Now: f.Clock.Now, Provider: failing{}})
		if err != nil {
			t.Fatal(err)
		}
		before := f.state(o.ID)
		if _, err := broken.Confirm(f.Ctx, admin, org, o.ID, "PO"); err == nil {
			t.Fatal("confirm with a failing provider succeeded")
		}
		if after := f.state(o.ID); after != before {
			t.Fatalf("failed confirm left traces:\n%s\n%s", before, after)
		}
		// The number it took is given back.
		c, err := f.Orders.Confirm(f.Ctx, admin, org, o.ID, "")
		if err != nil || !strings.HasSuffix(c.InvoiceNumber, "-000001") {
			t.Fatalf("confirm after the failure: %+v %v", c, err)
		}
		// A payment whose subscription credit fails (the plan's row is
		// gone from under it) rolls back with its journal row and receipt.
		if _, err := f.DB.Exec(f.Ctx, "UPDATE order_lines SET subscription_id = ? WHERE order_id = ?", "sub_gone", o.ID); err != nil {
			t.Fatal(err)
		}
		before = f.state(o.ID)
		if _, err := f.Orders.Pay(f.Ctx, "operator:test", o.ID, "ref"); err == nil {
			t.Fatal("payment crediting a missing subscription succeeded")
		}
		if after := f.state(o.ID); after != before {
			t.Fatalf("failed payment left traces:\n%s\n%s", before, after)
		}
	})
}

// TestLongBillingAddress: a billing contact at a long address (the mail's
// idempotency key is bounded) still gets the invoice.
func TestLongBillingAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		dom := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + ".example"
		email := strings.Repeat("c", 60) + "@" + dom
		owner := f.Account(email)
		o, err := f.App.Organizations.Create(f.Ctx, "account:"+owner.ID, "Long", owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		p := f.plan(100, "EUR")
		ord := f.validated(o.ID, p, 1)
		if _, err := f.Orders.Confirm(f.Ctx, admin, o.ID, ord.ID, ""); err != nil {
			t.Fatal(err)
		}
		if n := f.Count("SELECT COUNT(*) FROM mail_outbox WHERE recipient = ?", email); n != 1 {
			t.Fatalf("%d mails to the owner at a %d-byte address, want 1", n, len(email))
		}
	})
}
