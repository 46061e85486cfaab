package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/entitle/entitle/internal/dnstest"
	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestOrderRoutes walks an order through the API: cart, validate, confirm
// without a body (twice), the printable invoice in French, payment by the
// operator (twice), and a cancel after payment refused with order_state.
func TestOrderRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		dns := dnstest.Start(t)
		e := apitest.StartWith(t, d, func(c *app.Config) { c.Resolver = dns.Resolver() })
		re := &routeEnv{Env: e, dns: dns, api: e.Server.Client()}
		tok, org := re.org(t)
		plan := re.plan(t)
		var o adminapi.OrderJSON
		if st := re.call(t, "POST", orgURL(adminapi.PathOrders, org), tok, adminapi.CreateOrderRequest{}, &o); st != http.StatusCreated || o.Status != adminapi.OrderCart {
			t.Fatalf("create: %d %+v", st, o)
		}
		if st := re.call(t, "POST", orderURL(adminapi.PathOrderLines, org, o.ID), tok, adminapi.LineRequest{PlanID: plan, Quantity: 0}, nil); st != http.StatusBadRequest {
			t.Fatalf("quantity 0: %d", st)
		}
		if st := re.call(t, "POST", orderURL(adminapi.PathOrderLines, org, o.ID), tok, adminapi.LineRequest{PlanID: plan, Quantity: 12}, &o); st != http.StatusOK || o.TotalCents != 12*990 {
			t.Fatalf("set line: %d %+v", st, o)
		}
		var pe protocol.Error
		if st := re.call(t, "POST", orderURL(adminapi.PathOrderConfirm, org, o.ID), tok, nil, &pe); st != http.StatusConflict || pe.Code != adminapi.ErrOrderState {
			t.Fatalf("confirm a cart: %d %+v", st, pe)
		}
		if st := re.call(t, "POST", orderURL(adminapi.PathOrderValidate, org, o.ID), tok, nil, &o); st != http.StatusOK || o.Status != adminapi.OrderValidated {
			t.Fatalf("validate: %d %+v", st, o)
		}
		for range 2 {
			if st := re.call(t, "POST", orderURL(adminapi.PathOrderConfirm, org, o.ID), tok, nil, &o); st != http.StatusOK || o.Status != adminapi.OrderConfirmed || o.InvoiceNumber == "" || o.Due == nil {
				t.Fatalf("confirm: %d %+v", st, o)
			}
		}
		req, _ := http.NewRequest("GET", re.URL(orderURL(adminapi.PathOrderInvoice, org, o.ID))+"?lang=fr", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := re.api.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "style-src 'sha256-") ||
			!strings.Contains(string(body), "Facture "+o.InvoiceNumber) || !strings.Contains(string(body), "@media print") {
			t.Fatalf("invoice: %d %v\n%s", resp.StatusCode, resp.Header, body)
		}
		op := re.operatorToken(t)
		for range 2 {
			if st := re.call(t, "POST", strings.Replace(adminapi.PathOperatorOrderPayment, "{order}", o.ID, 1), op, adminapi.PaymentRequest{Reference: "VIR-77"}, &o); st != http.StatusOK || o.Status != adminapi.OrderPaid {
				t.Fatalf("pay: %d %+v", st, o)
			}
		}
		if st := re.call(t, "POST", orderURL(adminapi.PathOrderCancel, org, o.ID), tok, nil, &pe); st != http.StatusConflict || pe.Code != adminapi.ErrOrderState {
			t.Fatalf("cancel a paid order: %d %+v", st, pe)
		}
	})
}
