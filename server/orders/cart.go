package orders

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/plans"
	"github.com/entitle/entitle/server/store"
)

// Create opens a cart for orgID, with its first lines if any.
func (s *Service) Create(ctx context.Context, actor, orgID string, lines []adminapi.LineRequest) (Order, error) {
	if err := fault.Wire(adminapi.CreateOrderRequest{Lines: lines}.Validate()); err != nil {
		return Order{}, err
	}
	var o Order
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		var err error
		if o, err = insertOrder(ctx, tx, orgID, actor, adminapi.OrderPurchase, now); err != nil {
			return err
		}
		for _, l := range lines {
			if _, err := setLine(ctx, tx, &o, l, now); err != nil {
				return err
			}
		}
		if err := exec(ctx, tx, "UPDATE orders SET total_cents = ?, currency = ? WHERE id = ?", o.TotalCents, o.Currency, o.ID); err != nil {
			return err
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: "order.create", Target: o.ID, Organization: orgID,
			Details: map[string]any{"lines": len(o.Lines), "total_cents": o.TotalCents, "currency": o.Currency}})
	})
	return o, err
}

func insertOrder(ctx context.Context, tx *store.Tx, orgID, actor, kind string, now time.Time) (Order, error) {
	var one int
	err := tx.QueryRow(ctx, "SELECT 1 FROM organizations WHERE id = ?", orgID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return Order{}, fault.Errorf(protocol.ErrNotFound, "no such organization")
	}
	if err != nil {
		return Order{}, fmt.Errorf("create order: %w", err)
	}
	id, err := ids.New("ord")
	if err != nil {
		return Order{}, err
	}
	o := Order{ID: id, OrganizationID: orgID, Status: adminapi.OrderCart, Kind: kind, CreatedBy: actor, Provider: "invoice", Currency: "EUR",
		Created: store.FromMillis(store.Millis(now)), Lines: []Line{}}
	if _, err := tx.Exec(ctx, `INSERT INTO orders (id, organization_id, status, kind, created_by, currency, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, o.ID, orgID, o.Status, kind, actor, o.Currency, store.Millis(now)); err != nil {
		return Order{}, fmt.Errorf("create order: %w", err)
	}
	return o, nil
}

// setLine gives o's line of the plan the quantity at the plan's current
// price (adding the line if there is none) and updates o's lines, total and
// currency in memory. It reports whether anything changed.
func setLine(ctx context.Context, tx *store.Tx, o *Order, r adminapi.LineRequest, now time.Time) (bool, error) {
	p, err := plans.Lookup(ctx, tx, r.PlanID)
	if err != nil {
		return false, err
	}
	if !p.Active {
		return false, fault.Errorf(adminapi.ErrPlanInactive, "plan %s is no longer in the catalog", p.Code)
	}
	others := 0
	for _, l := range o.Lines {
		if l.PlanID != p.ID {
			others++
		}
	}
	if others > 0 && o.Currency != p.Currency {
		return false, fault.Errorf(adminapi.ErrCurrencyMismatch, "the order is in %s; plan %s is sold in %s", o.Currency, p.Code, p.Currency)
	}
	idx := -1
	for i, l := range o.Lines {
		if l.PlanID == p.ID {
			idx = i
		}
	}
	switch {
	case idx >= 0 && o.Lines[idx].Quantity == r.Quantity && o.Lines[idx].UnitPriceCents == p.SeatPriceCents:
		return false, nil
	case idx >= 0:
		if err := exec(ctx, tx, "UPDATE order_lines SET quantity = ?, unit_price_cents = ? WHERE id = ?", r.Quantity, p.SeatPriceCents, o.Lines[idx].ID); err != nil {
			return false, err
		}
		o.Lines[idx].Quantity, o.Lines[idx].UnitPriceCents = r.Quantity, p.SeatPriceCents
	default:
		if len(o.Lines) >= MaxLines {
			return false, fault.Invalid("an order has at most %d lines", MaxLines)
		}
		id, err := ids.New("oli")
		if err != nil {
			return false, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO order_lines (id, order_id, plan_id, quantity, unit_price_cents, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, id, o.ID, p.ID, r.Quantity, p.SeatPriceCents, store.Millis(now)); err != nil {
			return false, fmt.Errorf("add order line: %w", err)
		}
		o.Lines = append(o.Lines, Line{ID: id, PlanID: p.ID, PlanCode: p.Code, PlanName: p.Name, Quantity: r.Quantity, UnitPriceCents: p.SeatPriceCents})
	}
	o.Currency, o.TotalCents = p.Currency, total(o.Lines)
	return true, nil
}

func total(lines []Line) int64 {
	var t int64
	for _, l := range lines {
		t += l.AmountCents()
	}
	return t
}

// inCart loads orgID's order for a change of its lines: it must be a cart.
func inCart(ctx context.Context, tx *store.Tx, orgID, orderID string) (Order, error) {
	o, err := load(ctx, tx, orgID, orderID, true)
	if err != nil {
		return Order{}, err
	}
	if o.Status != adminapi.OrderCart {
		return Order{}, errState(o, "a cart")
	}
	return o, nil
}

// SetLine gives the order's line of a plan a quantity, adding the line if
// the order has none of the plan; the unit price is the plan's now.
func (s *Service) SetLine(ctx context.Context, actor, orgID, orderID string, r adminapi.LineRequest) (Order, error) {
	if err := fault.Wire(r.Validate()); err != nil {
		return Order{}, err
	}
	var o Order
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if o, err = inCart(ctx, tx, orgID, orderID); err != nil {
			return err
		}
		now := s.now()
		changed, err := setLine(ctx, tx, &o, r, now)
		if err != nil || !changed {
			return err
		}
		if err := exec(ctx, tx, "UPDATE orders SET total_cents = ?, currency = ? WHERE id = ?", o.TotalCents, o.Currency, o.ID); err != nil {
			return err
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: "order.line.set", Target: o.ID, Organization: orgID,
			Details: map[string]any{"plan": r.PlanID, "quantity": r.Quantity, "total_cents": o.TotalCents}})
	})
	return o, err
}

// RemoveLine removes a line from a cart.
func (s *Service) RemoveLine(ctx context.Context, actor, orgID, orderID, lineID string) (Order, error) {
	var o Order
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if o, err = inCart(ctx, tx, orgID, orderID); err != nil {
			return err
		}
		idx := -1
		for i, l := range o.Lines {
			if l.ID == lineID {
				idx = i
			}
		}
		if idx < 0 {
			return fault.Errorf(protocol.ErrNotFound, "the order has no line %s", lineID)
		}
		removed := o.Lines[idx]
		o.Lines = append(o.Lines[:idx], o.Lines[idx+1:]...)
		o.TotalCents = total(o.Lines)
		if err := exec(ctx, tx, "DELETE FROM order_lines WHERE id = ? AND order_id = ?", lineID, o.ID); err != nil {
			return err
		}
		if err := exec(ctx, tx, "UPDATE orders SET total_cents = ? WHERE id = ?", o.TotalCents, o.ID); err != nil {
			return err
		}
		return journal.Record(ctx, tx, journal.Entry{At: s.now(), Actor: actor, Action: "order.line.remove", Target: o.ID, Organization: orgID,
			Details: map[string]any{"line": lineID, "plan": removed.PlanID, "total_cents": o.TotalCents}})
	})
	return o, err
}

// check computes o's total and checks what validating needs: lines, every
// plan still in the catalog, one currency.
func check(ctx context.Context, tx *store.Tx, o *Order) error {
	if len(o.Lines) == 0 {
		return fault.Errorf(adminapi.ErrOrderEmpty, "the order has no lines")
	}
	currency := ""
	for _, l := range o.Lines {
		p, err := plans.Lookup(ctx, tx, l.PlanID)
		if err != nil {
			return err
		}
		if !p.Active {
			return fault.Errorf(adminapi.ErrPlanInactive, "plan %s is no longer in the catalog: remove its line", p.Code)
		}
		if currency != "" && p.Currency != currency {
			return fault.Errorf(adminapi.ErrCurrencyMismatch, "the order mixes %s and %s", currency, p.Currency)
		}
		currency = p.Currency
	}
	o.Currency, o.TotalCents = currency, total(o.Lines)
	return nil
}

// transition runs one status change of an order of orgID ("" for any: the
// operator) in a transaction: it locks the order, returns it as it is when
// its status is already done (a retry), refuses with order_state unless its
// status is one of from (need words it for people), and otherwise runs
// apply, which writes the change, its journal row and its mail.
func (s *Service) transition(ctx context.Context, orgID, orderID, done, need string, from []string,
	apply func(tx *store.Tx, o *Order, now time.Time) error) (Order, error) {
	var o Order
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if o, err = load(ctx, tx, orgID, orderID, true); err != nil {
			return err
		}
		if o.Status == done {
			return nil
		}
		if !slices.Contains(from, o.Status) {
			return errState(o, need)
		}
		return apply(tx, &o, s.now())
	})
	if err != nil {
		return Order{}, err
	}
	return o, nil
}

// Validate marks a cart reviewed: its total is computed and its lines can
// no longer change. Validating a validated order returns it.
func (s *Service) Validate(ctx context.Context, actor, orgID, orderID string) (Order, error) {
	return s.transition(ctx, orgID, orderID, adminapi.OrderValidated, "a cart", []string{adminapi.OrderCart},
		func(tx *store.Tx, o *Order, now time.Time) error {
			if err := check(ctx, tx, o); err != nil {
				return err
			}
			o.Status, o.Validated = adminapi.OrderValidated, store.FromMillis(store.Millis(now))
			if err := exec(ctx, tx, "UPDATE orders SET status = ?, validated_at = ?, total_cents = ?, currency = ? WHERE id = ?",
				o.Status, store.Millis(now), o.TotalCents, o.Currency, o.ID); err != nil {
				return err
			}
			return journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: "order.validate", Target: o.ID, Organization: o.OrganizationID,
				Details: map[string]any{"total_cents": o.TotalCents, "currency": o.Currency}})
		})
}

// Cancel cancels an order not yet paid. Cancelling a cancelled order
// returns it. A cancelled renewal order leaves its subscription to end at
// its term (it is not raised again). A confirmed order keeps its invoice
// number (the numbers stay without gaps; the invoice page says cancelled).
func (s *Service) Cancel(ctx context.Context, actor, orgID, orderID string) (Order, error) {
	return s.transition(ctx, orgID, orderID, adminapi.OrderCancelled, "not yet paid",
		[]string{adminapi.OrderCart, adminapi.OrderValidated, adminapi.OrderConfirmed},
		func(tx *store.Tx, o *Order, now time.Time) error {
			from := o.Status
			o.Status, o.Cancelled = adminapi.OrderCancelled, store.FromMillis(store.Millis(now))
			if err := exec(ctx, tx, "UPDATE orders SET status = ?, cancelled_at = ? WHERE id = ?", o.Status, store.Millis(now), o.ID); err != nil {
				return err
			}
			return journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: "order.cancel", Target: o.ID, Organization: o.OrganizationID,
				Details: map[string]any{"from": from, "invoice": o.InvoiceNumber}})
		})
}

// exec runs a statement that must change exactly one row.
func exec(ctx context.Context, tx *store.Tx, q string, args ...any) error {
	n, err := tx.ExecAffected(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	if n != 1 {
		return fmt.Errorf("orders: %d rows changed, want 1", n)
	}
	return nil
}
