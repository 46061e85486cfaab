package web

import (
	"net/http"
	"strings"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/orders"
)

// OperatorOrderRow is a confirmed order awaiting its payment.
type OperatorOrderRow struct {
	orders.Order
	Org, Total string
}

type operatorOrdersView struct {
	Orders []OperatorOrderRow
	Pager  Pager
}

// operatorOrders lists the confirmed orders of every organization: the
// invoices awaiting payment, oldest first.
func (p *Pages) operatorOrders(w http.ResponseWriter, r *http.Request, c *call) {
	pg, pr, err := listPage(r, pageSize, "operator_total_orders", func(req paging.Request) (paging.Page[orders.Order], error) {
		return p.d.Orders.ListAll(r.Context(), adminapi.OrderConfirmed, req)
	})
	if err != nil {
		c.fail(w, r, "list orders", err)
		return
	}
	ov := operatorOrdersView{Pager: pr}
	names := map[string]string{}
	for _, o := range pg.Items {
		name, ok := names[o.OrganizationID]
		if !ok {
			org, err := p.d.Organizations.Get(r.Context(), o.OrganizationID)
			if err != nil {
				c.fail(w, r, "get organization", err)
				return
			}
			name, names[o.OrganizationID] = org.Name, org.Name
		}
		ov.Orders = append(ov.Orders, OperatorOrderRow{Order: o, Org: name, Total: c.loc.Money(o.TotalCents, o.Currency)})
	}
	v := c.view("operator_orders_title", ov)
	c.noticeOf(r, &v, operatorNotices)
	c.show(w, r, http.StatusOK, "operator_orders", v)
}

// paymentReference reads the reference of a payment (the bank transfer's),
// or says it does not read.
func paymentReference(w http.ResponseWriter, r *http.Request, c *call, ref string) (string, bool) {
	ref = strings.TrimSpace(ref)
	if (adminapi.PaymentRequest{Reference: ref}).Validate() != nil {
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "operator_reference_bad", nil)
		return "", false
	}
	return ref, true
}

// operatorPaymentConfirm says what recording the payment does before it is
// done; the reference comes from the orders list's form.
func (p *Pages) operatorPaymentConfirm(w http.ResponseWriter, r *http.Request, c *call) {
	ref, ok := paymentReference(w, r, c, r.URL.Query().Get("reference"))
	if !ok {
		return
	}
	o, err := p.d.Orders.Get(r.Context(), "", r.PathValue("order"))
	if err != nil {
		c.fail(w, r, "get order", err)
		return
	}
	if o.Status != adminapi.OrderConfirmed {
		c.message(w, r, http.StatusConflict, "web_refused_title", "operator_not_confirmed", nil)
		return
	}
	a := i18n.Args{"invoice": o.InvoiceNumber, "reference": ref, "total": c.loc.Money(o.TotalCents, o.Currency)}
	cf := Confirm{Action: "/operator/orders/" + o.ID + "/payment", Cancel: "/operator/orders",
		Consequence: c.T("operator_pay_consequence", a), Button: c.T("operator_pay_button", nil),
		Fields: []Field{{"reference", ref}}}
	v := c.view("", cf)
	v.Title = c.T("operator_pay_title", a)
	c.show(w, r, http.StatusOK, "confirm", v)
}

func (p *Pages) operatorPay(w http.ResponseWriter, r *http.Request, c *call) {
	ref, ok := paymentReference(w, r, c, r.PostFormValue("reference"))
	if !ok {
		return
	}
	if _, err := p.d.Orders.Pay(r.Context(), c.operatorPrincipal().Actor(), r.PathValue("order"), ref); err != nil {
		c.fail(w, r, "record payment", err)
		return
	}
	http.Redirect(w, r, "/operator/orders?done=paid", http.StatusSeeOther)
}
