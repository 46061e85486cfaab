package adminapi

import (
	"time"
)

// Paths of orders, invoices and payments.
const (
	PathOrders               = PathOrg + "/orders"
	PathOrder                = PathOrders + "/{order}"
	PathOrderLines           = PathOrder + "/lines"
	PathOrderLine            = PathOrderLines + "/{line}"
	PathOrderValidate        = PathOrder + "/validate"
	PathOrderConfirm         = PathOrder + "/confirm"
	PathOrderCancel          = PathOrder + "/cancel"
	PathOrderInvoice         = PathOrder + "/invoice"
	PathOperatorOrders       = "/v1/operator/orders"
	PathOperatorOrderPayment = PathOperatorOrders + "/{order}/payment"
)

// Error codes of orders and plans.
const (
	ErrOrderState       = "order_state"       // 409: the order's status does not allow this
	ErrOrderEmpty       = "order_empty"       // 409: an order without lines cannot be validated
	ErrPlanInactive     = "plan_inactive"     // 409: the plan is out of the catalog
	ErrCurrencyMismatch = "currency_mismatch" // 409: every line of an order is in one currency
	ErrPlanCodeTaken    = "plan_code_taken"   // 409: another plan has this code
)

// Order statuses and kinds.
const (
	OrderCart      = "cart"
	OrderValidated = "validated"
	OrderConfirmed = "confirmed"
	OrderPaid      = "paid"
	OrderCancelled = "cancelled"

	OrderPurchase = "purchase"
	OrderRenewal  = "renewal"
)

// Bounds on order fields.
const (
	MinQuantity      = 1
	MaxQuantity      = 100000
	MaxPurchaseOrder = 100
	MaxReference     = 200
)

// OrderLineJSON is one line of an order: a plan times a quantity of seats,
// at the unit price the plan had when the line was written.
type OrderLineJSON struct {
	ID             string `json:"id"`
	PlanID         string `json:"plan_id"`
	PlanCode       string `json:"plan_code"`
	PlanName       string `json:"plan_name"`
	Quantity       int    `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents"`
	AmountCents    int64  `json:"amount_cents"`
	SubscriptionID string `json:"subscription_id,omitempty"`
}

// OrderJSON is an order (a cart until confirmed; then an invoice).
type OrderJSON struct {
	ID               string          `json:"id"`
	OrganizationID   string          `json:"organization_id"`
	Status           string          `json:"status"`
	Kind             string          `json:"kind"`
	PurchaseOrder    string          `json:"purchase_order,omitempty"`
	Provider         string          `json:"provider"`
	InvoiceNumber    string          `json:"invoice_number,omitempty"`
	TotalCents       int64           `json:"total_cents"`
	Currency         string          `json:"currency"`
	PaymentReference string          `json:"payment_reference,omitempty"`
	Lines            []OrderLineJSON `json:"lines"`
	Created          time.Time       `json:"created"`
	Validated        *time.Time      `json:"validated,omitempty"`
	Confirmed        *time.Time      `json:"confirmed,omitempty"`
	Due              *time.Time      `json:"due,omitempty"`
	Paid             *time.Time      `json:"paid,omitempty"`
	Cancelled        *time.Time      `json:"cancelled,omitempty"`
}

// CreateOrderRequest is the body of POST /v1/orgs/{org}/orders: a new cart,
// optionally with its first lines.
type CreateOrderRequest struct {
	Lines []LineRequest `json:"lines,omitempty"`
}

// Validate checks the lines.
func (r CreateOrderRequest) Validate() error {
	if len(r.Lines) > MaxFeatures {
		return invalid("at most 50 lines")
	}
	for _, l := range r.Lines {
		if err := l.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// LineRequest is the body of POST /v1/orgs/{org}/orders/{order}/lines: the
// order's line of the plan gets this quantity (added if there is none).
type LineRequest struct {
	PlanID   string `json:"plan_id"`
	Quantity int    `json:"quantity"`
}

// Validate checks the fields.
func (r LineRequest) Validate() error {
	if !text(r.PlanID, MaxName) {
		return invalid("plan_id is required")
	}
	if r.Quantity < MinQuantity || r.Quantity > MaxQuantity {
		return invalid("quantity must be between 1 and 100000")
	}
	return nil
}

// ConfirmRequest is the body of POST /v1/orgs/{org}/orders/{order}/confirm:
// the buyer's purchase-order reference, printed on the invoice (optional).
type ConfirmRequest struct {
	PurchaseOrder string `json:"purchase_order,omitempty"`
}

// Validate checks the bounds.
func (r ConfirmRequest) Validate() error {
	if r.PurchaseOrder != "" && !text(r.PurchaseOrder, MaxPurchaseOrder) {
		return invalid("purchase_order must be at most 100 characters, no control characters")
	}
	return nil
}

// PaymentRequest is the body of POST /v1/operator/orders/{order}/payment:
// the operator records the payment of a confirmed order.
type PaymentRequest struct {
	Reference string `json:"reference"`
}

// Validate checks the reference.
func (r PaymentRequest) Validate() error {
	if !text(r.Reference, MaxReference) {
		return invalid("reference is required (the bank transfer's reference, at most 200 characters)")
	}
	return nil
}
