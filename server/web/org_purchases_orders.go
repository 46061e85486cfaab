package web

import (
	"net/http"
	"strings"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/orders"
)

// OrderRow is an order as the pages show it: its words and amounts in the
// page's language.
type OrderRow struct {
	orders.Order
	StatusName, Total string
	Lines             []LineRow
	Cart, Validated   bool // what the page offers: edit the cart, confirm
	Cancellable       bool
	Invoice           bool
}

// LineRow is a line of an order.
type LineRow struct {
	orders.Line
	Unit, Amount string
}

func (c *call) orderRow(o orders.Order) OrderRow {
	row := OrderRow{Order: o, StatusName: c.T(orderStatusNames[o.Status], nil), Total: c.loc.Money(o.TotalCents, o.Currency),
		Cart: o.Status == adminapi.OrderCart, Validated: o.Status == adminapi.OrderValidated,
		Cancellable: o.Status == adminapi.OrderCart || o.Status == adminapi.OrderValidated || o.Status == adminapi.OrderConfirmed,
		Invoice:     o.InvoiceNumber != ""}
	for _, l := range o.Lines {
		row.Lines = append(row.Lines, LineRow{Line: l, Unit: c.loc.Money(l.UnitPriceCents, o.Currency), Amount: c.loc.Money(l.AmountCents(), o.Currency)})
	}
	return row
}

type ordersView struct {
	Orders []OrderRow
	Pager  Pager
}

func (p *Pages) ordersPage(w http.ResponseWriter, r *http.Request, c *call) {
	pg, pr, err := listPage(r, pageSize, "purchases_total_orders", func(req paging.Request) (paging.Page[orders.Order], error) {
		return p.d.Orders.List(r.Context(), c.org.ID, req)
	})
	if err != nil {
		c.fail(w, r, "list orders", err)
		return
	}
	ov := ordersView{Pager: pr}
	for _, o := range pg.Items {
		ov.Orders = append(ov.Orders, c.orderRow(o))
	}
	v := c.orgView("purchases_orders_title", ov)
	c.purchaseNotice(r, &v)
	c.show(w, r, http.StatusOK, "purchases_orders", v)
}

// toOrder redirects to an order's page with a notice.
func (c *call) toOrder(w http.ResponseWriter, r *http.Request, id, done string) {
	http.Redirect(w, r, "/orgs/"+c.org.ID+"/orders/"+id+"?done="+done, http.StatusSeeOther)
}

// newCart opens a cart with its first line (the buy form of the purchases
// page).
func (p *Pages) newCart(w http.ResponseWriter, r *http.Request, c *call) {
	l, ok := formLine(r)
	if !ok {
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "purchases_bad_line", nil)
		return
	}
	o, err := p.d.Orders.Create(r.Context(), c.acct.ID, c.org.ID, []adminapi.LineRequest{l})
	if err != nil {
		c.fail(w, r, "new cart", err)
		return
	}
	c.toOrder(w, r, o.ID, "added")
}

type orderView struct {
	Order OrderRow
	Plans []PlanRow // the cart's add form
}

func (p *Pages) orderPage(w http.ResponseWriter, r *http.Request, c *call) {
	o, err := p.d.Orders.Get(r.Context(), c.org.ID, r.PathValue("order"))
	if err != nil {
		c.fail(w, r, "get order", err)
		return
	}
	ov := orderView{Order: c.orderRow(o)}
	if ov.Order.Cart {
		if ov.Plans, err = c.planRows(r.Context()); err != nil {
			c.fail(w, r, "list plans", err)
			return
		}
	}
	title := "purchases_order_title"
	if ov.Order.Cart {
		title = "purchases_cart_title"
	}
	v := c.orgView(title, ov)
	c.purchaseNotice(r, &v)
	c.show(w, r, http.StatusOK, "purchases_order", v)
}

func (p *Pages) setLine(w http.ResponseWriter, r *http.Request, c *call) {
	l, ok := formLine(r)
	if !ok {
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "purchases_bad_line", nil)
		return
	}
	o, err := p.d.Orders.SetLine(r.Context(), c.acct.ID, c.org.ID, r.PathValue("order"), l)
	if err != nil {
		c.fail(w, r, "set line", err)
		return
	}
	c.toOrder(w, r, o.ID, "line")
}

func (p *Pages) removeLine(w http.ResponseWriter, r *http.Request, c *call) {
	o, err := p.d.Orders.RemoveLine(r.Context(), c.acct.ID, c.org.ID, r.PathValue("order"), r.PathValue("line"))
	if err != nil {
		c.fail(w, r, "remove line", err)
		return
	}
	c.toOrder(w, r, o.ID, "line")
}

func (p *Pages) validateOrder(w http.ResponseWriter, r *http.Request, c *call) {
	o, err := p.d.Orders.Validate(r.Context(), c.acct.ID, c.org.ID, r.PathValue("order"))
	if err != nil {
		c.fail(w, r, "validate order", err)
		return
	}
	c.toOrder(w, r, o.ID, "validated")
}

func (p *Pages) confirmOrder(w http.ResponseWriter, r *http.Request, c *call) {
	po := strings.TrimSpace(r.PostFormValue("purchase_order"))
	o, err := p.d.Orders.Confirm(r.Context(), c.acct.ID, c.org.ID, r.PathValue("order"), po)
	if err != nil {
		c.fail(w, r, "confirm order", err)
		return
	}
	c.toOrder(w, r, o.ID, "confirmed")
}

func (p *Pages) cancelConfirm(w http.ResponseWriter, r *http.Request, c *call) {
	o, err := p.d.Orders.Get(r.Context(), c.org.ID, r.PathValue("order"))
	if err != nil {
		c.fail(w, r, "get order", err)
		return
	}
	base := "/orgs/" + c.org.ID + "/orders/" + o.ID
	consequence := "purchases_cancel_consequence"
	if o.InvoiceNumber != "" {
		consequence = "purchases_cancel_invoice_consequence"
	}
	c.show(w, r, http.StatusOK, "confirm", c.orgConfirm("purchases_cancel_title", Confirm{
		Consequence: c.T(consequence, i18n.Args{"invoice": o.InvoiceNumber}),
		Button:      c.T("purchases_cancel_button", nil),
		Action:      base + "/cancel", Cancel: base,
	}))
}

func (p *Pages) cancelOrder(w http.ResponseWriter, r *http.Request, c *call) {
	o, err := p.d.Orders.Cancel(r.Context(), c.acct.ID, c.org.ID, r.PathValue("order"))
	if err != nil {
		c.fail(w, r, "cancel order", err)
		return
	}
	c.toOrder(w, r, o.ID, "cancelled")
}

// invoicePage serves the orders package's printable invoice, in the page's
// language, under its own Content-Security-Policy.
func (p *Pages) invoicePage(w http.ResponseWriter, r *http.Request, c *call) {
	b, err := p.d.Orders.RenderInvoice(r.Context(), c.org.ID, r.PathValue("order"), c.loc.Tag().String())
	if err != nil {
		c.fail(w, r, "invoice", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", orders.InvoiceCSP())
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(b)
}
