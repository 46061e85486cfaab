package web

import (
	"net/http"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/organizations"
)

// operatorNav are the vendor's pages, for operators of the console only.
var operatorNav = []navItem{
	{"operator_nav_orgs", "/operator/orgs"},
	{"operator_nav_plans", "/operator/plans"},
	{"operator_nav_orders", "/operator/orders"},
}

// operatorPages reports whether the console has the domains the operator
// pages need.
func (p *Pages) operatorPages() bool {
	return p.d.Organizations != nil && p.d.Orders != nil && p.d.Plans != nil
}

// operatorRoutes are the vendor's pages (issue 12): every organization, the
// plans catalog (operator_plans.go) and the payment of confirmed invoices
// (operator_orders.go). Granted with `entitle-server operator grant EMAIL`.
func (p *Pages) operatorRoutes() []route {
	if !p.operatorPages() {
		return nil
	}
	op := func(pattern string, h func(http.ResponseWriter, *http.Request, *call)) route {
		return route{pattern: pattern, gate: operator, h: h}
	}
	return []route{
		op("GET /operator/orgs", p.operatorOrgs),
		op("GET /operator/plans", p.operatorPlans),
		op("POST /operator/plans", p.operatorCreatePlan),
		op("GET /operator/plans/{plan}", p.operatorPlan),
		op("POST /operator/plans/{plan}", p.operatorUpdatePlan),
		op("GET /operator/orders", p.operatorOrders),
		op("GET /operator/orders/{order}/payment", p.operatorPaymentConfirm),
		op("POST /operator/orders/{order}/payment", p.operatorPay),
	}
}

// isOperator reports whether the signed-in caller is an operator of the
// console (asked once per request; an error counts as no).
func (c *call) isOperator() bool {
	if c.isOp == nil {
		ok, err := c.p.d.Organizations.IsOperator(c.ctx, c.acct.ID)
		if err != nil {
			c.p.logger.ErrorContext(c.ctx, "is operator", "error", err)
		}
		c.isOp = &ok
	}
	return *c.isOp
}

// operatorGate admits operators; anyone else gets 404.
func (p *Pages) operatorGate(w http.ResponseWriter, r *http.Request, c *call) bool {
	if c.isOperator() {
		return true
	}
	c.message(w, r, http.StatusNotFound, "web_not_found_title", "web_code_not_found", nil)
	return false
}

// operatorPrincipal is the operator as the domains see them: an operator
// whose "token" is their web session, so the journal names the person.
func (c *call) operatorPrincipal() authz.Principal {
	return authz.Principal{Operator: true, TokenID: "web:" + c.acct.ID}
}

// operatorNotices are what ?done= on an operator page may say.
var operatorNotices = map[string]string{
	"plan_created": "operator_plan_created",
	"plan_saved":   "operator_plan_saved",
	"paid":         "operator_paid",
}

type operatorOrgsView struct {
	Orgs  []organizations.Membership
	Pager Pager
}

func (p *Pages) operatorOrgs(w http.ResponseWriter, r *http.Request, c *call) {
	pg, pr, err := listPage(r, pageSize, "operator_total_orgs", func(req paging.Request) (paging.Page[organizations.Membership], error) {
		return p.d.Organizations.ListFor(r.Context(), "", req)
	})
	if err != nil {
		c.fail(w, r, "list organizations", err)
		return
	}
	c.show(w, r, http.StatusOK, "operator_orgs", c.view("operator_orgs_title", operatorOrgsView{Orgs: pg.Items, Pager: pr}))
}
