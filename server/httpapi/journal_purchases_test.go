package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/server/orders"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/subscriptions"
)

// consoleOrder makes an organization whose owner is signed in to the
// console, with an order of one line taken as far as status.
func (re *routeEnv) consoleOrder(t *testing.T, status string) (*http.Client, string, string, orders.Order) {
	t.Helper()
	c, tok, org, _ := re.consoleOrg(t)
	ctx := context.Background()
	o, err := re.App.Orders.Create(ctx, "operator:test", org, []adminapi.LineRequest{{PlanID: re.plan(t), Quantity: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if status != adminapi.OrderCart {
		if o, err = re.App.Orders.Validate(ctx, "operator:test", org, o.ID); err != nil {
			t.Fatal(err)
		}
	}
	return c, tok, org, o
}

// consoleSub makes an organization whose owner is signed in to the
// console, with a subscription of 3 seats of a new plan and a member.
func (re *routeEnv) consoleSub(t *testing.T) (*http.Client, string, string, string, string) {
	t.Helper()
	c, tok, org, _ := re.consoleOrg(t)
	member := re.member(t, org)
	return c, tok, org, re.credit(t, org, re.plan(t)), member
}

// credit gives org a subscription of 3 seats of plan, as a paid order does.
func (re *routeEnv) credit(t *testing.T, org, plan string) string {
	t.Helper()
	ctx := context.Background()
	var sub string
	if err := re.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		sub, err = subscriptions.Credit(ctx, tx, time.Now(), subscriptions.CreditSpec{OrganizationID: org, PlanID: plan, Quantity: 3, Actor: "system"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return sub
}

// The console's purchases pages' cases of TestEveryStateChangingRouteJournals.
func init() {
	page := func(org, p string) string { return "/orgs/" + org + p }
	journalCases["POST /orgs/{org}/subscriptions/{sub}/renewal"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, sub, _ := re.consoleSub(t)
		return func() int {
			return post(t, c, re.URL(page(org, "/subscriptions/"+sub+"/renewal")), url.Values{"csrf": {tok}, "auto_renew": {"off"}})
		}
	}
	journalCases["POST /orgs/{org}/orders"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, _ := re.consoleOrg(t)
		plan := re.plan(t)
		return func() int {
			return post(t, c, re.URL(page(org, "/orders")), url.Values{"csrf": {tok}, "plan": {plan}, "quantity": {"3"}})
		}
	}
	journalCases["POST /orgs/{org}/orders/{order}/lines"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, o := re.consoleOrder(t, adminapi.OrderCart)
		return func() int {
			return post(t, c, re.URL(page(org, "/orders/"+o.ID+"/lines")), url.Values{"csrf": {tok}, "plan": {o.Lines[0].PlanID}, "quantity": {"5"}})
		}
	}
	journalCases["POST /orgs/{org}/orders/{order}/lines/{line}/remove"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, o := re.consoleOrder(t, adminapi.OrderCart)
		return func() int {
			return post(t, c, re.URL(page(org, "/orders/"+o.ID+"/lines/"+o.Lines[0].ID+"/remove")), url.Values{"csrf": {tok}})
		}
	}
	journalCases["POST /orgs/{org}/orders/{order}/validate"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, o := re.consoleOrder(t, adminapi.OrderCart)
		return func() int {
			return post(t, c, re.URL(page(org, "/orders/"+o.ID+"/validate")), url.Values{"csrf": {tok}})
		}
	}
	journalCases["POST /orgs/{org}/orders/{order}/confirm"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, o := re.consoleOrder(t, adminapi.OrderValidated)
		return func() int {
			return post(t, c, re.URL(page(org, "/orders/"+o.ID+"/confirm")), url.Values{"csrf": {tok}, "purchase_order": {"PO-7"}})
		}
	}
	journalCases["POST /orgs/{org}/orders/{order}/cancel"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, o := re.consoleOrder(t, adminapi.OrderValidated)
		return func() int {
			return post(t, c, re.URL(page(org, "/orders/"+o.ID+"/cancel")), url.Values{"csrf": {tok}})
		}
	}
	journalCases["POST /orgs/{org}/members/{account}/license"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, sub, member := re.consoleSub(t)
		return func() int {
			return post(t, c, re.URL(page(org, "/members/"+member+"/license")), url.Values{"csrf": {tok}, "subscription": {sub}})
		}
	}
	journalCases["POST /orgs/{org}/members/{account}/license/{sub}/release"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, sub, member := re.consoleSub(t)
		if _, _, err := re.App.Subscriptions.Assign(context.Background(), operatorP, org, sub, member); err != nil {
			t.Fatal(err)
		}
		return func() int {
			return post(t, c, re.URL(page(org, "/members/"+member+"/license/"+sub+"/release")), url.Values{"csrf": {tok}})
		}
	}
	journalCases["POST /orgs/{org}/settings"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, _ := re.consoleOrg(t)
		return func() int {
			return post(t, c, re.URL(page(org, "/settings")), url.Values{"csrf": {tok}, "name": {"Renamed"}, "language": {"fr"}})
		}
	}
	journalCases["POST /orgs/{org}/settings/billing/{account}"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, _ := re.consoleOrg(t)
		member := re.member(t, org)
		return func() int {
			return post(t, c, re.URL(page(org, "/settings/billing/"+member)), url.Values{"csrf": {tok}, "billing": {"on"}})
		}
	}
}
