package orders_test

import (
	"encoding/json"
	"fmt"
	"github.com/entitle/entitle/pkg/paging"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/mail"
	"github.com/entitle/entitle/server/orders"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestRenewal: 30 days before its term ends, an auto-renewing subscription
// gets one confirmed renewal order with an invoice, mailed to the billing
// contact; running the job again raises none; paying it extends the term.
func TestRenewal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, billing := f.org("")
		p := f.plan(2000, "EUR")
		o := f.validated(org, p, 4)
		if _, err := f.Orders.Confirm(f.Ctx, admin, org, o.ID, ""); err != nil {
			t.Fatal(err)
		}
		paid, err := f.Orders.Pay(f.Ctx, "operator:test", o.ID, "ref")
		if err != nil {
			t.Fatal(err)
		}
		sub := paid.Lines[0].SubscriptionID
		end := f.Count("SELECT term_end FROM subscriptions WHERE id = ?", sub)
		if n, err := f.Orders.RaiseRenewals(f.Ctx, 100); err != nil || n != 0 {
			t.Fatalf("a year before its end: %d renewals, %v", n, err)
		}
		f.Clock.Advance(store.FromMillis(int64(end)).Sub(f.Clock.Now()) - 29*24*time.Hour)
		journal := f.Count("SELECT COUNT(*) FROM audit_events WHERE organization_id = ?", org)
		if n, err := f.Orders.RaiseRenewals(f.Ctx, 100); err != nil || n != 1 {
			t.Fatalf("29 days before its end: %d renewals, %v", n, err)
		}
		if n := f.Count("SELECT COUNT(*) FROM audit_events WHERE organization_id = ?", org) - journal; n != 1 {
			t.Fatalf("a renewal wrote %d journal rows, want 1", n)
		}
		if n, err := f.Orders.RaiseRenewals(f.Ctx, 100); err != nil || n != 0 {
			t.Fatalf("second run: %d renewals, %v", n, err)
		}
		all, err := f.Orders.ListAll(f.Ctx, adminapi.OrderConfirmed, pagingAll)
		if err != nil || all.Total != 1 {
			t.Fatalf("confirmed orders %+v %v", all, err)
		}
		r := all.Items[0]
		if r.Kind != adminapi.OrderRenewal || r.InvoiceNumber == "" || r.TotalCents != 8000 || r.Lines[0].SubscriptionID != sub {
			t.Fatalf("renewal order %+v", r)
		}
		if n := f.Count("SELECT COUNT(*) FROM mail_outbox WHERE kind = ? AND recipient = ?", mail.KindRenewalNotice, billing); n != 1 {
			t.Fatalf("%d renewal notices, want 1", n)
		}
		if _, err := f.Orders.Pay(f.Ctx, "operator:test", r.ID, "ref-2"); err != nil {
			t.Fatal(err)
		}
		newEnd := store.FromMillis(int64(f.Count("SELECT term_end FROM subscriptions WHERE id = ?", sub)))
		if want := store.FromMillis(int64(end)).AddDate(0, 12, 0); !newEnd.Equal(want) {
			t.Fatalf("term end after renewal %v, want %v", newEnd, want)
		}
		if n := f.Count("SELECT seats FROM subscriptions WHERE id = ?", sub); n != 4 {
			t.Fatalf("renewal changed the seats to %d", n)
		}
	})
}

// TestInvoicePage renders the invoice in the organization's language and
// in the one asked for, with the locale's numbers and dates.
func TestInvoicePage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, _ := f.org("fr")
		p := f.plan(123450, "EUR")
		o := f.validated(org, p, 1000)
		_, err := f.Orders.RenderInvoice(f.Ctx, org, o.ID, "")
		if err == nil {
			t.Fatal("a validated order has an invoice page")
		}
		c, err := f.Orders.Confirm(f.Ctx, admin, org, o.ID, "BC <42> & co")
		if err != nil {
			t.Fatal(err)
		}
		loc := i18n.New()
		for _, c2 := range []struct {
			lang string
			want []string
		}{
			{"", []string{`lang="fr"`, "Facture " + c.InvoiceNumber, "Bon de commande", "BC &lt;42&gt; &amp; co", "1\u202f234\u202f500,00\u00a0EUR",
				"1\u202f000", loc.Localizer(i18n.French).Date(c.Due), "Date d’échéance", "TVA n’est pas détaillée", "Société"}},
			{"en", []string{`lang="en"`, "Invoice " + c.InvoiceNumber, "Purchase order", "1,234,500.00 EUR", "1,000",
				loc.Localizer(i18n.English).Date(c.Confirmed), "No VAT is shown"}},
		} {
			page, err := f.Orders.RenderInvoice(f.Ctx, org, o.ID, c2.lang)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c2.want {
				if !strings.Contains(string(page), w) {
					t.Errorf("lang %q: page lacks %q", c2.lang, w)
				}
			}
		}
	})
}

var pagingAll = paging.Request{Limit: 500}

// TestMailsRender: the invoice and receipt mails, as enqueued, render in
// the organization's language with the amount written for it.
func TestMailsRender(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, _ := f.org("fr")
		p := f.plan(123450, "EUR")
		o := f.validated(org, p, 1)
		if _, err := f.Orders.Confirm(f.Ctx, admin, org, o.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Orders.Pay(f.Ctx, "operator:test", o.ID, "VIR-1"); err != nil {
			t.Fatal(err)
		}
		rows, err := f.DB.Query(f.Ctx, "SELECT kind, locale, args FROM mail_outbox WHERE organization_id = ? ORDER BY kind", org)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		b := i18n.New()
		kinds := 0
		for rows.Next() {
			var kind, locale, raw string
			if err := rows.Scan(&kind, &locale, &raw); err != nil {
				t.Fatal(err)
			}
			var args map[string]string
			if err := json.Unmarshal([]byte(raw), &args); err != nil {
				t.Fatal(err)
			}
			r, err := mail.Render(b, kind, locale, args)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(r.Text, "1\u202f234,50\u00a0EUR") || !strings.Contains(r.Subject, "Facture") && !strings.Contains(r.Subject, "facture") {
				t.Errorf("%s mail in %s: %q / %q", kind, locale, r.Subject, r.Text)
			}
			kinds++
		}
		if kinds != 2 {
			t.Fatalf("%d mails, want the invoice and the receipt", kinds)
		}
	})
}

// TestRenewalRacedByInstances: two server instances running the renewal
// job at once raise one renewal order per subscription, and take one
// invoice number each.
func TestRenewalRacedByInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, _ := f.org("")
		p := f.plan(100, "EUR")
		const subs = 5
		for i := range subs {
			o := f.validated(org, p, i+1)
			if _, err := f.Orders.Confirm(f.Ctx, admin, org, o.ID, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Orders.Pay(f.Ctx, "operator:test", o.ID, "ref"); err != nil {
				t.Fatal(err)
			}
		}
		f.Clock.Advance(340 * 24 * time.Hour)
		other, err := orders.New(f.DB, orders.Config{Now: f.Clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		raised, errs := apptest.Concurrently(4, func(i int) (int, error) {
			if i%2 == 0 {
				return f.Orders.RaiseRenewals(f.Ctx, 100)
			}
			return other.RaiseRenewals(f.Ctx, 100)
		})
		sum := 0
		for i, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
			sum += raised[i]
		}
		if sum != subs || f.Count("SELECT COUNT(*) FROM orders WHERE kind = ?", adminapi.OrderRenewal) != subs {
			t.Fatalf("raised %d renewal orders (%v), want %d", sum, raised, subs)
		}
		if n := f.Count("SELECT SUM(last) FROM invoice_counters"); n != 2*subs {
			t.Fatalf("invoice counter at %d, want %d (no number lost to a raced renewal)", n, 2*subs)
		}
		// The renewals fall in the next year: its numbers start again at 1.
		next := f.Clock.Now().UTC().Year()
		if n := f.Count("SELECT COUNT(*) FROM orders WHERE invoice_number IN (?, ?, ?, ?, ?)", fmt.Sprintf("%d-000001", next),
			fmt.Sprintf("%d-000002", next), fmt.Sprintf("%d-000003", next), fmt.Sprintf("%d-000004", next), fmt.Sprintf("%d-000005", next)); n != subs {
			t.Fatalf("%d renewal invoices numbered %d-000001..5, want %d", n, next, subs)
		}
	})
}
