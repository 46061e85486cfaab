// Package orders is how an organization buys seats: an admin fills an order
// like a cart (plan x quantity lines, each at the price its plan had when the
// line was written), validates it (the total is computed, every line in one
// currency), and confirms it, which hands it to the payment Provider. The one
// provider, Invoice, issues an invoice: a number sequential per year without
// gaps, taken in the confirming transaction, a due date and the buyer's
// purchase-order reference, printed by RenderInvoice. The operator records
// the payment, which in the same transaction credits each line's seats to a
// subscription (package subscriptions). A renewal job raises, before a
// subscription's term ends, a confirmed renewal order; paying it renews the
// subscription.
//
// Status: cart -> validated -> confirmed -> paid; cart, validated or
// confirmed -> cancelled. Every transition checks the status (refusing with
// adminapi.ErrOrderState and changing nothing), writes exactly one journal row
// and enqueues its mail in its transaction, and returns the order unchanged
// when it was already made (a retried confirm, cancel or payment).
package orders

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/store"
)

// Seller is who issues the invoices, as printed on them.
type Seller struct {
	Name    string
	Address []string // lines
	Email   string
	TaxID   string // e.g. an intra-EU VAT number; printed when set
}

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	Now    func() time.Time // default time.Now
	Logger *slog.Logger
	// Provider is how confirmed orders get paid; default Invoice{} (30
	// days to pay).
	Provider Provider
	// Seller is printed on invoices; default Name "Entitle".
	Seller Seller
	// RenewalLead is how long before a subscription's term end its renewal
	// order is raised. Default 30 days.
	RenewalLead time.Duration
}

// Service is the orders domain over a store.DB.
type Service struct {
	db     *store.DB
	cfg    Config
	now    func() time.Time
	log    *slog.Logger
	bundle *i18n.Bundle
}

// New returns a Service.
func New(db *store.DB, cfg Config) (*Service, error) {
	if db == nil {
		return nil, errors.New("orders: nil database")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Provider == nil {
		cfg.Provider = Invoice{}
	}
	if cfg.Seller.Name == "" {
		cfg.Seller.Name = "Entitle"
	}
	if cfg.RenewalLead <= 0 {
		cfg.RenewalLead = 30 * 24 * time.Hour
	}
	return &Service{db: db, cfg: cfg, now: cfg.Now, log: cfg.Logger, bundle: i18n.New()}, nil
}

// Order is an order with its lines.
type Order struct {
	ID, OrganizationID string
	Status, Kind       string // adminapi.Order*
	CreatedBy          string
	PurchaseOrder      string
	Provider           string
	InvoiceNumber      string
	TotalCents         int64
	Currency           string
	PaymentReference   string
	Lines              []Line
	Created, Validated time.Time
	Confirmed, Due     time.Time
	Paid, Cancelled    time.Time
}

// Line is one line of an order.
type Line struct {
	ID                 string
	PlanID             string
	PlanCode, PlanName string
	Quantity           int
	UnitPriceCents     int64
	SubscriptionID     string // set once paid (or, for a renewal, from the start)
}

// AmountCents is the line's total.
func (l Line) AmountCents() int64 { return int64(l.Quantity) * l.UnitPriceCents }

// MaxLines bounds an order's lines.
const MaxLines = 50

func errNotFound() *fault.Error { return fault.Errorf(protocol.ErrNotFound, "no such order") }

func errState(o Order, want string) *fault.Error {
	return fault.Errorf(adminapi.ErrOrderState, "the order is %s; this needs it %s", o.Status, want)
}

const orderCols = `id, organization_id, status, kind, created_by, purchase_order, provider, invoice_number, total_cents, currency,
	payment_reference, created_at, validated_at, confirmed_at, due_at, paid_at, cancelled_at`

type scanner interface{ Scan(dest ...any) error }

func scanOrder(row scanner) (Order, error) {
	var (
		o       Order
		invoice sql.NullString
		created int64
		ts      [6]sql.NullInt64
	)
	if err := row.Scan(&o.ID, &o.OrganizationID, &o.Status, &o.Kind, &o.CreatedBy, &o.PurchaseOrder, &o.Provider, &invoice, &o.TotalCents,
		&o.Currency, &o.PaymentReference, &created, &ts[0], &ts[1], &ts[2], &ts[3], &ts[4]); err != nil {
		return Order{}, err
	}
	o.InvoiceNumber, o.Created = invoice.String, store.FromMillis(created)
	o.Validated, o.Confirmed, o.Due, o.Paid, o.Cancelled = nt(ts[0]), nt(ts[1]), nt(ts[2]), nt(ts[3]), nt(ts[4])
	return o, nil
}

func nt(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return store.FromMillis(v.Int64)
}

func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return store.Millis(t)
}

// load reads an order of orgID ("" for any organization: the operator) with
// its lines; lock locks its row for the rest of tx.
func load(ctx context.Context, tx *store.Tx, orgID, id string, lock bool) (Order, error) {
	q := "SELECT " + orderCols + " FROM orders WHERE id = ?"
	args := []any{id}
	if orgID != "" {
		q += " AND organization_id = ?"
		args = append(args, orgID)
	}
	if lock {
		q += tx.ForUpdate()
	}
	o, err := scanOrder(tx.QueryRow(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Order{}, errNotFound()
	}
	if err != nil {
		return Order{}, fmt.Errorf("load order: %w", err)
	}
	lines, err := loadLines(ctx, tx, []string{o.ID})
	if err != nil {
		return Order{}, err
	}
	o.Lines = lines[o.ID]
	return o, nil
}

// loadLines reads the lines of the orders ids, oldest first.
func loadLines(ctx context.Context, tx *store.Tx, orderIDs []string) (map[string][]Line, error) {
	out := map[string][]Line{}
	if len(orderIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(orderIDs))
	for i, id := range orderIDs {
		args[i] = id
	}
	rows, err := tx.Query(ctx, `SELECT l.order_id, l.id, l.plan_id, p.code, p.name, l.quantity, l.unit_price_cents, l.subscription_id
		FROM order_lines l JOIN plans p ON p.id = l.plan_id
		WHERE l.order_id IN (?`+strings.Repeat(", ?", len(orderIDs)-1)+`) ORDER BY l.created_at, l.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("load order lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			orderID string
			l       Line
			sub     sql.NullString
		)
		if err := rows.Scan(&orderID, &l.ID, &l.PlanID, &l.PlanCode, &l.PlanName, &l.Quantity, &l.UnitPriceCents, &sub); err != nil {
			return nil, fmt.Errorf("load order lines: %w", err)
		}
		l.SubscriptionID = sub.String
		out[orderID] = append(out[orderID], l)
	}
	return out, rows.Err()
}

// Get returns an order of orgID ("" for the operator: any organization).
func (s *Service) Get(ctx context.Context, orgID, id string) (Order, error) {
	var o Order
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		o, err = load(ctx, tx, orgID, id, false)
		return err
	})
	return o, err
}

// List pages orgID's orders, oldest first.
func (s *Service) List(ctx context.Context, orgID string, req paging.Request) (paging.Page[Order], error) {
	return s.list(ctx, "organization_id = ?", orgID, req)
}

// ListAll pages every organization's orders for the operator, oldest
// first; a non-empty status keeps the orders in that status.
func (s *Service) ListAll(ctx context.Context, status string, req paging.Request) (paging.Page[Order], error) {
	if status == "" {
		return s.list(ctx, "", nil, req)
	}
	switch status {
	case adminapi.OrderCart, adminapi.OrderValidated, adminapi.OrderConfirmed, adminapi.OrderPaid, adminapi.OrderCancelled:
	default:
		return paging.Page[Order]{}, fault.Invalid("status must be cart, validated, confirmed, paid or cancelled")
	}
	return s.list(ctx, "status = ?", status, req)
}

func (s *Service) list(ctx context.Context, where string, arg any, req paging.Request) (paging.Page[Order], error) {
	key, err := paging.Decode(req.Cursor, 2)
	if err != nil {
		return paging.Page[Order]{}, fault.Invalid("%v", err)
	}
	n := req.Size()
	cond, args := " WHERE 1 = 1", []any{}
	if where != "" {
		cond, args = " WHERE "+where, append(args, arg)
	}
	countArgs := append([]any(nil), args...)
	q := "SELECT " + orderCols + " FROM orders" + cond
	if key != nil {
		after, err := strconv.ParseInt(key[0], 10, 64)
		if err != nil {
			return paging.Page[Order]{}, fault.Invalid("%v", paging.ErrCursor)
		}
		q += " AND (created_at > ? OR (created_at = ? AND id > ?))"
		args = append(args, after, after, key[1])
	}
	q += " ORDER BY created_at, id LIMIT ?"
	args = append(args, n+1)
	var (
		out   []Order
		total int64
	)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM orders"+cond, countArgs...).Scan(&total); err != nil {
			return fmt.Errorf("count orders: %w", err)
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("list orders: %w", err)
		}
		for rows.Next() {
			o, err := scanOrder(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("list orders: %w", err)
			}
			out = append(out, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list orders: %w", err)
		}
		ids := make([]string, 0, len(out))
		for _, o := range out {
			ids = append(ids, o.ID)
		}
		lines, err := loadLines(ctx, tx, ids)
		if err != nil {
			return err
		}
		for i := range out {
			out[i].Lines = lines[out[i].ID]
		}
		return nil
	})
	if err != nil {
		return paging.Page[Order]{}, err
	}
	return paging.Trim(out, n, total, func(o Order) []string {
		return []string{strconv.FormatInt(store.Millis(o.Created), 10), o.ID}
	}), nil
}
