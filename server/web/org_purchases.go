package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/orders"
	"github.com/entitle/entitle/server/plans"
	"github.com/entitle/entitle/server/subscriptions"
)

// Orders is the part of *orders.Service the pages use.
type Orders interface {
	Create(ctx context.Context, actor, orgID string, lines []adminapi.LineRequest) (orders.Order, error)
	SetLine(ctx context.Context, actor, orgID, orderID string, r adminapi.LineRequest) (orders.Order, error)
	RemoveLine(ctx context.Context, actor, orgID, orderID, lineID string) (orders.Order, error)
	Validate(ctx context.Context, actor, orgID, orderID string) (orders.Order, error)
	Confirm(ctx context.Context, actor, orgID, orderID, purchaseOrder string) (orders.Order, error)
	Cancel(ctx context.Context, actor, orgID, orderID string) (orders.Order, error)
	Get(ctx context.Context, orgID, id string) (orders.Order, error)
	List(ctx context.Context, orgID string, req paging.Request) (paging.Page[orders.Order], error)
	RenderInvoice(ctx context.Context, orgID, orderID, lang string) ([]byte, error)
	// The operator pages (operator_orders.go).
	ListAll(ctx context.Context, status string, req paging.Request) (paging.Page[orders.Order], error)
	Pay(ctx context.Context, actor, orderID, reference string) (orders.Order, error)
}

// Plans is the part of *plans.Service the pages use.
type Plans interface {
	List(ctx context.Context, activeOnly bool, req paging.Request) (paging.Page[plans.Plan], error)
	// The operator pages (operator_plans.go).
	Get(ctx context.Context, id string) (plans.Plan, error)
	Create(ctx context.Context, actor string, r adminapi.CreatePlanRequest) (plans.Plan, error)
	Update(ctx context.Context, actor, id string, r adminapi.UpdatePlanRequest) (plans.Plan, error)
}

// Subscriptions is the part of *subscriptions.Service the pages use.
type Subscriptions interface {
	List(ctx context.Context, orgID string, req paging.Request) (paging.Page[subscriptions.Subscription], error)
	Get(ctx context.Context, orgID, subID string) (subscriptions.Subscription, error)
	Change(ctx context.Context, p authz.Principal, orgID, subID string, c subscriptions.Change) (subscriptions.Subscription, error)
	Assign(ctx context.Context, p authz.Principal, orgID, subID, accountID string) (licenses.License, bool, error)
	Unassign(ctx context.Context, p authz.Principal, orgID, subID, accountID string) error
}

// purchasesRoutes are an organization's licenses and purchases for its
// admins: the subscriptions (seat pools), the cart, the orders and their
// invoices (this file and org_purchases_orders.go), the license of each
// member (org_users.go) and the settings (org_settings.go, owners).
func (p *Pages) purchasesRoutes() []route {
	if p.d.Organizations == nil || p.d.Orders == nil || p.d.Plans == nil || p.d.Subscriptions == nil {
		return nil
	}
	admin := func(pattern string, h func(http.ResponseWriter, *http.Request, *call)) route {
		return route{pattern: pattern, gate: org, role: authz.Admin, h: h}
	}
	owner := func(pattern string, h func(http.ResponseWriter, *http.Request, *call)) route {
		return route{pattern: pattern, gate: org, role: authz.Owner, h: h}
	}
	return []route{
		admin("GET /orgs/{org}/purchases", p.purchasesPage),
		admin("GET /orgs/{org}/subscriptions/{sub}/renewal", p.renewalConfirm),
		admin("POST /orgs/{org}/subscriptions/{sub}/renewal", p.setRenewal),
		admin("GET /orgs/{org}/orders", p.ordersPage),
		admin("POST /orgs/{org}/orders", p.newCart),
		admin("GET /orgs/{org}/orders/{order}", p.orderPage),
		admin("POST /orgs/{org}/orders/{order}/lines", p.setLine),
		admin("POST /orgs/{org}/orders/{order}/lines/{line}/remove", p.removeLine),
		admin("POST /orgs/{org}/orders/{order}/validate", p.validateOrder),
		admin("POST /orgs/{org}/orders/{order}/confirm", p.confirmOrder),
		admin("GET /orgs/{org}/orders/{order}/cancel", p.cancelConfirm),
		admin("POST /orgs/{org}/orders/{order}/cancel", p.cancelOrder),
		admin("GET /orgs/{org}/orders/{order}/invoice", p.invoicePage),
		admin("GET /orgs/{org}/members/{account}/license", p.licensePage),
		admin("POST /orgs/{org}/members/{account}/license", p.assignLicense),
		admin("GET /orgs/{org}/members/{account}/license/{sub}/release", p.licenseReleaseConfirm),
		admin("POST /orgs/{org}/members/{account}/license/{sub}/release", p.licenseRelease),
		owner("GET /orgs/{org}/settings", p.settingsPage),
		owner("POST /orgs/{org}/settings", p.saveSettings),
		owner("POST /orgs/{org}/settings/billing/{account}", p.setBilling),
	}
}

// purchaseNotices are what ?done= on a purchases page may say.
var purchaseNotices = map[string]string{
	"renewal":   "purchases_renewal_changed",
	"added":     "purchases_cart_added",
	"line":      "purchases_cart_changed",
	"validated": "purchases_validated",
	"confirmed": "purchases_confirmed",
	"cancelled": "purchases_cancelled",
	"assigned":  "purchases_assigned",
	"released":  "purchases_released",
	"settings":  "purchases_settings_saved",
	"billing":   "purchases_billing_changed",
}

// purchaseNotice sets the page's notice from ?done=.
func (c *call) purchaseNotice(r *http.Request, v *View) { c.noticeOf(r, v, purchaseNotices) }

// formSwitch reads a field that says "on" or "off".
func formSwitch(r *http.Request, name string) (on, ok bool) {
	switch r.PostFormValue(name) {
	case "on":
		return true, true
	case "off":
		return false, true
	}
	return false, false
}

// orderStatusNames are the catalog words of an order's status.
var orderStatusNames = map[string]string{
	adminapi.OrderCart: "purchases_status_cart", adminapi.OrderValidated: "purchases_status_validated",
	adminapi.OrderConfirmed: "purchases_status_confirmed", adminapi.OrderPaid: "purchases_status_paid",
	adminapi.OrderCancelled: "purchases_status_cancelled",
}

// SubRow is a subscription as the purchases page shows it.
type SubRow struct {
	subscriptions.Subscription
	Free      int
	Suspended bool
}

// PlanRow is a plan of the catalog with its price in the page's language.
type PlanRow struct {
	plans.Plan
	Price string
}

type purchasesView struct {
	Subs  []SubRow
	Pager Pager
	Plans []PlanRow
}

// catalogSize bounds the plans the buy form offers.
const catalogSize = 100

func (c *call) planRows(ctx context.Context) ([]PlanRow, error) {
	pg, err := c.p.d.Plans.List(ctx, true, paging.Request{Limit: catalogSize})
	if err != nil {
		return nil, err
	}
	out := make([]PlanRow, 0, len(pg.Items))
	for _, pl := range pg.Items {
		out = append(out, PlanRow{Plan: pl, Price: c.loc.Money(pl.SeatPriceCents, pl.Currency)})
	}
	return out, nil
}

func (p *Pages) purchasesPage(w http.ResponseWriter, r *http.Request, c *call) {
	pg, pr, err := listPage(r, pageSize, "purchases_total_subscriptions", func(req paging.Request) (paging.Page[subscriptions.Subscription], error) {
		return p.d.Subscriptions.List(r.Context(), c.org.ID, req)
	})
	if err != nil {
		c.fail(w, r, "list subscriptions", err)
		return
	}
	pv := purchasesView{Pager: pr}
	for _, s := range pg.Items {
		pv.Subs = append(pv.Subs, SubRow{Subscription: s, Free: s.Seats - s.Assigned, Suspended: !s.Suspended.IsZero()})
	}
	if pv.Plans, err = c.planRows(r.Context()); err != nil {
		c.fail(w, r, "list plans", err)
		return
	}
	v := c.orgView("purchases_title", pv)
	c.purchaseNotice(r, &v)
	c.show(w, r, http.StatusOK, "purchases", v)
}

func (p *Pages) renewalConfirm(w http.ResponseWriter, r *http.Request, c *call) {
	s, err := p.d.Subscriptions.Get(r.Context(), c.org.ID, r.PathValue("sub"))
	if err != nil {
		c.fail(w, r, "get subscription", err)
		return
	}
	base := "/orgs/" + c.org.ID
	a := i18n.Args{"plan": s.PlanName, "end": c.loc.Date(s.TermEnd)}
	cf := Confirm{Action: base + "/subscriptions/" + s.ID + "/renewal", Cancel: base + "/purchases"}
	title := "purchases_renewal_on_title"
	if s.AutoRenew {
		title = "purchases_renewal_off_title"
		cf.Consequence, cf.Button = c.T("purchases_renewal_off_consequence", a), c.T("purchases_renewal_off_button", nil)
		cf.Fields = []Field{{"auto_renew", "off"}}
	} else {
		cf.Consequence, cf.Button = c.T("purchases_renewal_on_consequence", a), c.T("purchases_renewal_on_button", nil)
		cf.Fields = []Field{{"auto_renew", "on"}}
	}
	c.show(w, r, http.StatusOK, "confirm", c.orgConfirm(title, cf))
}

func (p *Pages) setRenewal(w http.ResponseWriter, r *http.Request, c *call) {
	on, ok := formSwitch(r, "auto_renew")
	if !ok {
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "web_code_invalid_request", nil)
		return
	}
	if _, err := p.d.Subscriptions.Change(r.Context(), c.principal(), c.org.ID, r.PathValue("sub"), subscriptions.Change{AutoRenew: &on}); err != nil {
		c.fail(w, r, "auto-renewal", err)
		return
	}
	c.back(w, r, "/purchases", "renewal")
}

// formLine reads a plan and a quantity.
func formLine(r *http.Request) (adminapi.LineRequest, bool) {
	q, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("quantity")))
	l := adminapi.LineRequest{PlanID: r.PostFormValue("plan"), Quantity: q}
	return l, err == nil && l.Validate() == nil
}
