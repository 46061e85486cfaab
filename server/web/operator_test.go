package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// operatorPatterns are the console's operator routes, filled with ids.
func (cs *console) operatorPatterns(plan, order string) [][2]string {
	var out [][2]string
	for _, pattern := range cs.e.API.Routes() {
		if a, _ := authz.Lookup(pattern); a != authz.Web || !strings.Contains(pattern, " /operator/") {
			continue
		}
		method, path, _ := strings.Cut(pattern, " ")
		out = append(out, [2]string{method, strings.NewReplacer("{plan}", plan, "{order}", order).Replace(path)})
	}
	return out
}

// TestOperatorPages: a person granted operator sees the Operator section,
// every organization, the plans catalog (create, edit name, price, active)
// and the confirmed invoices, and records a payment through its
// confirmation, the seats joining the organization's pool; anyone else gets
// 404 from every operator page, even with a valid CSRF token; a POST without
// the token is refused and changes nothing.
func TestOperatorPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		cs := newConsole(t, d)
		ctx := context.Background()
		app := cs.e.App
		pl, err := app.Plans.Create(ctx, "operator:test", adminapi.CreatePlanRequest{Code: "pro", Name: "Pro", TermMonths: 12, SeatPriceCents: 990})
		if err != nil {
			t.Fatal(err)
		}
		o, err := app.Orders.Create(ctx, "operator:test", cs.org, []adminapi.LineRequest{{PlanID: pl.ID, Quantity: 4}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Orders.Validate(ctx, "operator:test", cs.org, o.ID); err != nil {
			t.Fatal(err)
		}
		if o, err = app.Orders.Confirm(ctx, "operator:test", cs.org, o.ID, "PO-9"); err != nil {
			t.Fatal(err)
		}
		routes := cs.operatorPatterns(pl.ID, o.ID)
		if len(routes) != 8 {
			t.Fatalf("%d operator routes, want 8", len(routes))
		}
		// Not an operator yet: 404 everywhere, nothing in the navigation.
		before := cs.journalRows(t)
		for _, who := range []struct {
			c   *http.Client
			tok string
		}{{cs.owner, cs.ownerTok}, {cs.member, cs.memberTok}} {
			for _, rt := range routes {
				var st int
				if rt[0] == "POST" {
					st = post(t, who.c, cs.e.URL(rt[1]), url.Values{"csrf": {who.tok}, "reference": {"R"}, "name": {"X"}, "price": {"1"}, "active": {"on"}, "code": {"x"}}, nil)
				} else {
					st, _, _ = page(t, who.c, "GET", cs.e.URL(rt[1]+"?reference=R"), nil)
				}
				if st != http.StatusNotFound {
					t.Errorf("non-operator %s %s: %d, want 404", rt[0], rt[1], st)
				}
			}
		}
		if _, _, body := page(t, cs.owner, "GET", cs.e.URL("/account"), nil); strings.Contains(body, `href="/operator/`) {
			t.Error("a non-operator's navigation links the operator pages")
		}
		if after := cs.journalRows(t); after != before {
			t.Errorf("refused requests wrote %d journal rows", after-before)
		}

		if _, err := app.Organizations.GrantOperator(ctx, "operator:test", "owner@alpha.example"); err != nil {
			t.Fatal(err)
		}
		if ok, err := app.Organizations.IsOperator(ctx, cs.memberID); err != nil || ok {
			t.Fatalf("member is operator: %v %v", ok, err)
		}
		_, _, body := page(t, cs.owner, "GET", cs.e.URL("/account"), nil)
		for _, want := range []string{`href="/operator/orgs"`, `href="/operator/plans"`, `href="/operator/orders"`} {
			if !strings.Contains(body, want) {
				t.Errorf("operator's navigation lacks %s", want)
			}
		}
		if st, _, body := page(t, cs.owner, "GET", cs.e.URL("/operator/orgs"), nil); st != 200 || !strings.Contains(body, "Alpha") || !strings.Contains(body, "Bravo") {
			t.Errorf("organizations: %d, want both organizations", st)
		}

		// The catalog: create, then edit.
		if st := post(t, cs.owner, cs.e.URL("/operator/plans"), url.Values{"code": {"team"}, "name": {"Team"}, "price": {"12,50"}}, nil); st != http.StatusForbidden {
			t.Errorf("create plan without CSRF: %d, want 403", st)
		}
		for _, bad := range []url.Values{
			{"code": {"Team!"}, "name": {"Team"}, "price": {"12.50"}},
			{"code": {"team"}, "name": {"Team"}, "price": {"12.505"}},
			{"code": {"team"}, "name": {""}, "price": {"12"}},
		} {
			bad.Set("csrf", cs.ownerTok)
			if st := post(t, cs.owner, cs.e.URL("/operator/plans"), bad, nil); st != http.StatusBadRequest {
				t.Errorf("create plan %v: %d, want 400", bad, st)
			}
		}
		if after := cs.journalRows(t); after != before+1 { // the grant
			t.Errorf("refused plan forms wrote %d journal rows", after-before-1)
		}
		if st := post(t, cs.owner, cs.e.URL("/operator/plans"), url.Values{"csrf": {cs.ownerTok}, "code": {"team"}, "name": {"Team"}, "price": {"12,50"}}, nil); st != http.StatusSeeOther {
			t.Fatalf("create plan: %d", st)
		}
		all, err := app.Plans.List(ctx, false, paging.Request{Limit: 10})
		if err != nil || len(all.Items) != 2 || all.Items[1].Code != "team" || all.Items[1].SeatPriceCents != 1250 {
			t.Fatalf("plans after create: %+v %v", all.Items, err)
		}
		team := all.Items[1]
		if st, _, body := page(t, cs.owner, "GET", cs.e.URL("/operator/plans"), nil); st != 200 || !strings.Contains(body, "Team") || !strings.Contains(body, "Pro") {
			t.Errorf("plans page: %d", st)
		}
		if st, _, body := page(t, cs.owner, "GET", cs.e.URL("/operator/plans/"+team.ID), nil); st != 200 || !strings.Contains(body, `value="12.50"`) {
			t.Errorf("plan page: %d", st)
		}
		if st := post(t, cs.owner, cs.e.URL("/operator/plans/"+team.ID), url.Values{"csrf": {cs.ownerTok}, "name": {"Team+"}, "price": {"15"}, "active": {"off"}}, nil); st != http.StatusSeeOther {
			t.Fatalf("edit plan: %d", st)
		}
		if team, err = app.Plans.Get(ctx, team.ID); err != nil || team.Name != "Team+" || team.SeatPriceCents != 1500 || team.Active {
			t.Errorf("plan after edit: %+v %v", team, err)
		}

		// The payment of the confirmed invoice.
		st, _, body := page(t, cs.owner, "GET", cs.e.URL("/operator/orders"), nil)
		if st != 200 || !strings.Contains(body, o.InvoiceNumber) {
			t.Fatalf("orders awaiting payment: %d, want invoice %s", st, o.InvoiceNumber)
		}
		if st, _, _ := page(t, cs.owner, "GET", cs.e.URL("/operator/orders/"+o.ID+"/payment"), nil); st != http.StatusBadRequest {
			t.Errorf("confirmation without a reference: %d, want 400", st)
		}
		st, _, body = page(t, cs.owner, "GET", cs.e.URL("/operator/orders/"+o.ID+"/payment?reference=VIR-42"), nil)
		if st != 200 || !strings.Contains(body, "Record payment of invoice "+o.InvoiceNumber) || !strings.Contains(body, "pool at once") || !strings.Contains(body, `value="VIR-42"`) {
			t.Fatalf("payment confirmation: %d\n%s", st, body)
		}
		if st := post(t, cs.owner, cs.e.URL("/operator/orders/"+o.ID+"/payment"), url.Values{"reference": {"VIR-42"}}, nil); st != http.StatusForbidden {
			t.Errorf("payment without CSRF: %d, want 403", st)
		}
		if got, _ := app.Orders.Get(ctx, cs.org, o.ID); got.Status != adminapi.OrderConfirmed {
			t.Fatalf("refused payment changed the order: %s", got.Status)
		}
		if st := post(t, cs.owner, cs.e.URL("/operator/orders/"+o.ID+"/payment"), url.Values{"csrf": {cs.ownerTok}, "reference": {"VIR-42"}}, nil); st != http.StatusSeeOther {
			t.Fatalf("payment: %d", st)
		}
		got, err := app.Orders.Get(ctx, cs.org, o.ID)
		if err != nil || got.Status != adminapi.OrderPaid {
			t.Fatalf("order after payment: %s %v", got.Status, err)
		}
		subs, err := app.Subscriptions.List(ctx, cs.org, paging.Request{Limit: 10})
		if err != nil || len(subs.Items) != 1 || subs.Items[0].Seats != 4 {
			t.Fatalf("pool after payment: %+v %v", subs.Items, err)
		}
		var actor string
		if err := cs.e.DB.QueryRow(ctx, "SELECT actor FROM audit_events WHERE action = 'order.pay' AND subject = ?", o.ID).Scan(&actor); err != nil || actor != "operator:web:"+mustID(t, cs, "owner@alpha.example") {
			t.Errorf("payment journaled by %q (%v)", actor, err)
		}
		if st, _, body := page(t, cs.owner, "GET", cs.e.URL("/operator/orders"), nil); st != 200 || strings.Contains(body, o.InvoiceNumber) {
			t.Errorf("paid invoice still awaiting payment: %d", st)
		}

		// Revoked: 404 again.
		if _, err := app.Organizations.RevokeOperator(ctx, "operator:test", "owner@alpha.example"); err != nil {
			t.Fatal(err)
		}
		if st, _, _ := page(t, cs.owner, "GET", cs.e.URL("/operator/orgs"), nil); st != http.StatusNotFound {
			t.Errorf("revoked operator: %d, want 404", st)
		}
	})
}

func mustID(t *testing.T, cs *console, email string) string {
	t.Helper()
	id, err := cs.e.App.Organizations.AccountIDByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
