package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/entitle/entitle/pkg/adminapi"
)

// consoleOperator signs in to the console a person whose account is an
// operator of it.
func (re *routeEnv) consoleOperator(t *testing.T) (*http.Client, string) {
	t.Helper()
	email, _, _ := re.ownedOrg(t)
	if _, err := re.App.Organizations.GrantOperator(context.Background(), "operator:test", email); err != nil {
		t.Fatal(err)
	}
	return re.signedIn(t, email)
}

// The console's operator pages' cases of TestEveryStateChangingRouteJournals.
func init() {
	journalCases["POST /operator/plans"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok := re.consoleOperator(t)
		return func() int {
			return post(t, c, re.URL("/operator/plans"), url.Values{"csrf": {tok}, "code": {"web-plan"}, "name": {"Web"}, "price": {"12.50"}})
		}
	}
	journalCases["POST /operator/plans/{plan}"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok := re.consoleOperator(t)
		plan := re.plan(t)
		return func() int {
			return post(t, c, re.URL("/operator/plans/"+plan), url.Values{"csrf": {tok}, "name": {"Renamed"}, "price": {"9"}, "active": {"off"}})
		}
	}
	journalCases["POST /operator/orders/{order}/payment"] = func(t *testing.T, re *routeEnv) func() int {
		_, _, org, o := re.consoleOrder(t, adminapi.OrderValidated)
		if _, err := re.App.Orders.Confirm(context.Background(), "operator:test", org, o.ID, "PO-1"); err != nil {
			t.Fatal(err)
		}
		c, tok := re.consoleOperator(t)
		return func() int {
			return post(t, c, re.URL("/operator/orders/"+o.ID+"/payment"), url.Values{"csrf": {tok}, "reference": {"VIR-1"}})
		}
	}
}
