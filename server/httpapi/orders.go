package httpapi

import (
	"context"
	"net/http"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/orders"
	"github.com/entitle/entitle/server/plans"
)

// Plans is the part of *plans.Service the API uses.
type Plans interface {
	Create(ctx context.Context, actor string, r adminapi.CreatePlanRequest) (plans.Plan, error)
	List(ctx context.Context, activeOnly bool, req paging.Request) (paging.Page[plans.Plan], error)
	Update(ctx context.Context, actor, id string, r adminapi.UpdatePlanRequest) (plans.Plan, error)
}

// Orders is the part of *orders.Service the API uses.
type Orders interface {
	Create(ctx context.Context, actor, orgID string, lines []adminapi.LineRequest) (orders.Order, error)
	Get(ctx context.Context, orgID, id string) (orders.Order, error)
	List(ctx context.Context, orgID string, req paging.Request) (paging.Page[orders.Order], error)
	ListAll(ctx context.Context, status string, req paging.Request) (paging.Page[orders.Order], error)
	SetLine(ctx context.Context, actor, orgID, orderID string, r adminapi.LineRequest) (orders.Order, error)
	RemoveLine(ctx context.Context, actor, orgID, orderID, lineID string) (orders.Order, error)
	Validate(ctx context.Context, actor, orgID, orderID string) (orders.Order, error)
	Confirm(ctx context.Context, actor, orgID, orderID, purchaseOrder string) (orders.Order, error)
	Cancel(ctx context.Context, actor, orgID, orderID string) (orders.Order, error)
	Pay(ctx context.Context, actor, orderID, reference string) (orders.Order, error)
	RenderInvoice(ctx context.Context, orgID, orderID, lang string) ([]byte, error)
}

// registerOrders serves the plan catalog, orders, invoices and payments.
func (s *Server) registerOrders() {
	if s.d.Orders == nil || s.d.Plans == nil || s.d.Orgs == nil {
		return
	}
	s.handleAs("GET "+adminapi.PathOrgPlans, s.listActivePlans)
	s.handleAs("GET "+adminapi.PathOrders, s.listOrders)
	s.handleAs("POST "+adminapi.PathOrders, s.createOrder)
	s.handleAs("GET "+adminapi.PathOrder, s.getOrder)
	s.handleAs("POST "+adminapi.PathOrderLines, s.setOrderLine)
	s.handleAs("DELETE "+adminapi.PathOrderLine, s.removeOrderLine)
	s.handleAs("POST "+adminapi.PathOrderValidate, s.orderTransition(s.d.Orders.Validate))
	s.handleAs("POST "+adminapi.PathOrderCancel, s.orderTransition(s.d.Orders.Cancel))
	s.handleAs("POST "+adminapi.PathOrderConfirm, s.confirmOrder)
	s.handleAs("GET "+adminapi.PathOrderInvoice, s.orderInvoice)
	s.handleAs("GET "+adminapi.PathOperatorPlans, s.listPlans)
	s.handleAs("POST "+adminapi.PathOperatorPlans, s.createPlan)
	s.handleAs("PATCH "+adminapi.PathOperatorPlan, s.updatePlan)
	s.handleAs("GET "+adminapi.PathOperatorOrders, s.operatorListOrders)
	s.handleAs("POST "+adminapi.PathOperatorOrderPayment, s.payOrder)
}

// PlanView is a plan on the wire.
func PlanView(p plans.Plan) adminapi.PlanJSON {
	return adminapi.PlanJSON{ID: p.ID, Code: p.Code, Name: p.Name, Features: p.Features, MaxProfiles: p.MaxProfiles,
		DevicesPerSeat: p.DevicesPerSeat, TermMonths: p.TermMonths, SeatPriceCents: p.SeatPriceCents, Currency: p.Currency,
		Active: p.Active, Created: p.Created}
}

// OrderView is an order on the wire.
func OrderView(o orders.Order) adminapi.OrderJSON {
	v := adminapi.OrderJSON{ID: o.ID, OrganizationID: o.OrganizationID, Status: o.Status, Kind: o.Kind, PurchaseOrder: o.PurchaseOrder,
		Provider: o.Provider, InvoiceNumber: o.InvoiceNumber, TotalCents: o.TotalCents, Currency: o.Currency,
		PaymentReference: o.PaymentReference, Lines: make([]adminapi.OrderLineJSON, 0, len(o.Lines)), Created: o.Created,
		Validated: timePtr(o.Validated), Confirmed: timePtr(o.Confirmed), Due: timePtr(o.Due), Paid: timePtr(o.Paid), Cancelled: timePtr(o.Cancelled)}
	for _, l := range o.Lines {
		v.Lines = append(v.Lines, adminapi.OrderLineJSON{ID: l.ID, PlanID: l.PlanID, PlanCode: l.PlanCode, PlanName: l.PlanName,
			Quantity: l.Quantity, UnitPriceCents: l.UnitPriceCents, AmountCents: l.AmountCents(), SubscriptionID: l.SubscriptionID})
	}
	return v
}

func (s *Server) listActivePlans(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
	s.servePlans(w, r, true)
}

func (s *Server) listPlans(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
	s.servePlans(w, r, false)
}

func (s *Server) servePlans(w http.ResponseWriter, r *http.Request, activeOnly bool) {
	servePage(s, w, r, "list plans", func(req paging.Request) (paging.Page[plans.Plan], error) {
		return s.d.Plans.List(r.Context(), activeOnly, req)
	}, PlanView)
}

func (s *Server) createPlan(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.CreatePlanRequest
	if !decodeValid(w, r, &req) {
		return
	}
	pl, err := s.d.Plans.Create(r.Context(), p.Actor(), req)
	if err != nil {
		s.failure(w, r, "create plan", err)
		return
	}
	writeJSON(w, http.StatusCreated, PlanView(pl))
}

func (s *Server) updatePlan(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.UpdatePlanRequest
	if !decodeValid(w, r, &req) {
		return
	}
	pl, err := s.d.Plans.Update(r.Context(), p.Actor(), r.PathValue("plan"), req)
	if err != nil {
		s.failure(w, r, "update plan", err)
		return
	}
	writeJSON(w, http.StatusOK, PlanView(pl))
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
	servePage(s, w, r, "list orders", func(req paging.Request) (paging.Page[orders.Order], error) {
		return s.d.Orders.List(r.Context(), r.PathValue("org"), req)
	}, OrderView)
}

func (s *Server) operatorListOrders(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
	servePage(s, w, r, "list orders", func(req paging.Request) (paging.Page[orders.Order], error) {
		return s.d.Orders.ListAll(r.Context(), r.URL.Query().Get("status"), req)
	}, OrderView)
}

func (s *Server) createOrder(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.CreateOrderRequest
	if !decodeValid(w, r, &req) {
		return
	}
	o, err := s.d.Orders.Create(r.Context(), p.Actor(), r.PathValue("org"), req.Lines)
	if err != nil {
		s.failure(w, r, "create order", err)
		return
	}
	writeJSON(w, http.StatusCreated, OrderView(o))
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
	o, err := s.d.Orders.Get(r.Context(), r.PathValue("org"), r.PathValue("order"))
	if err != nil {
		s.failure(w, r, "get order", err)
		return
	}
	writeJSON(w, http.StatusOK, OrderView(o))
}

func (s *Server) setOrderLine(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.LineRequest
	if !decodeValid(w, r, &req) {
		return
	}
	o, err := s.d.Orders.SetLine(r.Context(), p.Actor(), r.PathValue("org"), r.PathValue("order"), req)
	if err != nil {
		s.failure(w, r, "set order line", err)
		return
	}
	writeJSON(w, http.StatusOK, OrderView(o))
}

func (s *Server) removeOrderLine(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	o, err := s.d.Orders.RemoveLine(r.Context(), p.Actor(), r.PathValue("org"), r.PathValue("order"), r.PathValue("line"))
	if err != nil {
		s.failure(w, r, "remove order line", err)
		return
	}
	writeJSON(w, http.StatusOK, OrderView(o))
}

// orderTransition serves a body-less transition of an order.
func (s *Server) orderTransition(fn func(ctx context.Context, actor, orgID, orderID string) (orders.Order, error)) principalHandler {
	return func(w http.ResponseWriter, r *http.Request, p authz.Principal) {
		o, err := fn(r.Context(), p.Actor(), r.PathValue("org"), r.PathValue("order"))
		if err != nil {
			s.failure(w, r, "order transition", err)
			return
		}
		writeJSON(w, http.StatusOK, OrderView(o))
	}
}

func (s *Server) confirmOrder(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.ConfirmRequest
	// The body is optional: without a purchase-order reference there is
	// nothing to send.
	if r.ContentLength != 0 && !decodeValid(w, r, &req) {
		return
	}
	o, err := s.d.Orders.Confirm(r.Context(), p.Actor(), r.PathValue("org"), r.PathValue("order"), req.PurchaseOrder)
	if err != nil {
		s.failure(w, r, "confirm order", err)
		return
	}
	writeJSON(w, http.StatusOK, OrderView(o))
}

func (s *Server) orderInvoice(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
	lang := r.URL.Query().Get("lang")
	if len(lang) > adminapi.MaxLocale {
		writeError(w, apiError(protocol.ErrInvalidRequest, "lang must be a language tag such as en or fr"))
		return
	}
	page, err := s.d.Orders.RenderInvoice(r.Context(), r.PathValue("org"), r.PathValue("order"), lang)
	if err != nil {
		s.failure(w, r, "render invoice", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", orders.InvoiceCSP())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(page)
}

func (s *Server) payOrder(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.PaymentRequest
	if !decodeValid(w, r, &req) {
		return
	}
	o, err := s.d.Orders.Pay(r.Context(), p.Actor(), r.PathValue("order"), req.Reference)
	if err != nil {
		s.failure(w, r, "record payment", err)
		return
	}
	writeJSON(w, http.StatusOK, OrderView(o))
}
