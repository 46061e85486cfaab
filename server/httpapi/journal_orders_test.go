package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/server/orders"
)

// plan adds an active plan to the catalog and returns its id.
func (re *routeEnv) plan(t *testing.T) string {
	t.Helper()
	re.n++
	p, err := re.App.Plans.Create(context.Background(), "operator:test", adminapi.CreatePlanRequest{Code: fmt.Sprintf("plan-%d", re.n), Name: "Plan", TermMonths: 12, SeatPriceCents: 990})
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// order makes an organization with an order of one line, taken as far as
// status (cart, validated or confirmed); it returns the owner's session,
// the organization and the order.
func (re *routeEnv) order(t *testing.T, status string) (string, string, orders.Order) {
	t.Helper()
	tok, org := re.org(t)
	ctx := context.Background()
	o, err := re.App.Orders.Create(ctx, "operator:test", org, []adminapi.LineRequest{{PlanID: re.plan(t), Quantity: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if status == adminapi.OrderCart {
		return tok, org, o
	}
	if o, err = re.App.Orders.Validate(ctx, "operator:test", org, o.ID); err != nil {
		t.Fatal(err)
	}
	if status == adminapi.OrderConfirmed {
		if o, err = re.App.Orders.Confirm(ctx, "operator:test", org, o.ID, ""); err != nil {
			t.Fatal(err)
		}
	}
	return tok, org, o
}

func orderURL(p, org, order string) string {
	return strings.Replace(orgURL(p, org), "{order}", order, 1)
}

// The order and plan routes' cases of TestEveryStateChangingRouteJournals.
func init() {
	journalCases["POST "+adminapi.PathOrders] = func(t *testing.T, re *routeEnv) func() int {
		tok, org := re.org(t)
		plan := re.plan(t)
		return func() int {
			return re.call(t, "POST", orgURL(adminapi.PathOrders, org), tok, adminapi.CreateOrderRequest{Lines: []adminapi.LineRequest{{PlanID: plan, Quantity: 2}}}, nil)
		}
	}
	journalCases["POST "+adminapi.PathOrderLines] = func(t *testing.T, re *routeEnv) func() int {
		tok, org, o := re.order(t, adminapi.OrderCart)
		plan := re.plan(t)
		return func() int {
			return re.call(t, "POST", orderURL(adminapi.PathOrderLines, org, o.ID), tok, adminapi.LineRequest{PlanID: plan, Quantity: 4}, nil)
		}
	}
	journalCases["DELETE "+adminapi.PathOrderLine] = func(t *testing.T, re *routeEnv) func() int {
		tok, org, o := re.order(t, adminapi.OrderCart)
		return func() int {
			return re.call(t, "DELETE", strings.Replace(orderURL(adminapi.PathOrderLine, org, o.ID), "{line}", o.Lines[0].ID, 1), tok, nil, nil)
		}
	}
	journalCases["POST "+adminapi.PathOrderValidate] = func(t *testing.T, re *routeEnv) func() int {
		tok, org, o := re.order(t, adminapi.OrderCart)
		return func() int { return re.call(t, "POST", orderURL(adminapi.PathOrderValidate, org, o.ID), tok, nil, nil) }
	}
	journalCases["POST "+adminapi.PathOrderConfirm] = func(t *testing.T, re *routeEnv) func() int {
		tok, org, o := re.order(t, adminapi.OrderValidated)
		return func() int {
			return re.call(t, "POST", orderURL(adminapi.PathOrderConfirm, org, o.ID), tok, adminapi.ConfirmRequest{PurchaseOrder: "BC-1"}, nil)
		}
	}
	journalCases["POST "+adminapi.PathOrderCancel] = func(t *testing.T, re *routeEnv) func() int {
		tok, org, o := re.order(t, adminapi.OrderConfirmed)
		return func() int { return re.call(t, "POST", orderURL(adminapi.PathOrderCancel, org, o.ID), tok, nil, nil) }
	}
	journalCases["POST "+adminapi.PathOperatorPlans] = func(t *testing.T, re *routeEnv) func() int {
		op := re.operatorToken(t)
		re.n++
		code := fmt.Sprintf("new-%d", re.n)
		return func() int {
			return re.call(t, "POST", adminapi.PathOperatorPlans, op, adminapi.CreatePlanRequest{Code: code, Name: "New", TermMonths: 12}, nil)
		}
	}
	journalCases["PATCH "+adminapi.PathOperatorPlan] = func(t *testing.T, re *routeEnv) func() int {
		op := re.operatorToken(t)
		plan := re.plan(t)
		off := false
		return func() int {
			return re.call(t, "PATCH", strings.Replace(adminapi.PathOperatorPlan, "{plan}", plan, 1), op, adminapi.UpdatePlanRequest{Active: &off}, nil)
		}
	}
	journalCases["POST "+adminapi.PathOperatorOrderPayment] = func(t *testing.T, re *routeEnv) func() int {
		op := re.operatorToken(t)
		_, _, o := re.order(t, adminapi.OrderConfirmed)
		return func() int {
			return re.call(t, "POST", strings.Replace(adminapi.PathOperatorOrderPayment, "{order}", o.ID, 1), op, adminapi.PaymentRequest{Reference: "VIR-9"}, nil)
		}
	}
}
