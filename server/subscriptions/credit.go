// Package subscriptions: this file is the orders branch's minimal stand-in
// for the subscriptions domain, with exactly the signatures of ENTERPRISE.md
// (Credit, Renew, DueForRenewal, SetRenewalOrder). The subs branch owns the
// package; at merge its version replaces this file.
package subscriptions

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/store"
)

// Subscription is an organization's pool of seats of one plan.
type Subscription struct {
	ID, OrganizationID, PlanID string
	Seats, Assigned            int
	TermMonths                 int
	TermStart, TermEnd         time.Time
	AutoRenew                  bool
	RenewalOrderID             string
	Created                    time.Time
}

// CreditSpec is what a paid order line adds.
type CreditSpec struct {
	OrganizationID, PlanID string
	Quantity               int
	SubscriptionID         string // "" = a new subscription
	OrderID, Actor         string
}

// Credit adds c.Quantity seats to c.SubscriptionID, or starts a new
// subscription of the plan for its term from now. It writes no journal row:
// the payment that calls it does.
func Credit(ctx context.Context, tx *store.Tx, now time.Time, c CreditSpec) (string, error) {
	if c.Quantity < 1 {
		return "", fault.Invalid("quantity must be at least 1")
	}
	if c.SubscriptionID != "" {
		n, err := tx.ExecAffected(ctx, "UPDATE subscriptions SET seats = seats + ? WHERE id = ? AND organization_id = ? AND plan_id = ?",
			c.Quantity, c.SubscriptionID, c.OrganizationID, c.PlanID)
		if err != nil {
			return "", fmt.Errorf("credit subscription: %w", err)
		}
		if n == 0 {
			return "", fault.Errorf(protocol.ErrNotFound, "no subscription %s of this plan", c.SubscriptionID)
		}
		return c.SubscriptionID, nil
	}
	var months int
	if err := tx.QueryRow(ctx, "SELECT term_months FROM plans WHERE id = ?", c.PlanID).Scan(&months); err != nil {
		return "", fmt.Errorf("credit: plan %s: %w", c.PlanID, err)
	}
	id, err := ids.New("sub")
	if err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO subscriptions (id, organization_id, plan_id, seats, assigned, term_months, term_start, term_end,
		auto_renew, created_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?)`,
		id, c.OrganizationID, c.PlanID, c.Quantity, months, store.Millis(now), store.Millis(now.AddDate(0, months, 0)), true, store.Millis(now)); err != nil {
		return "", fmt.Errorf("credit: new subscription: %w", err)
	}
	return id, nil
}

// Renew extends the subscription's term by its length and clears its
// renewal order.
func Renew(ctx context.Context, tx *store.Tx, now time.Time, subscriptionID, orderID, actor string) error {
	var (
		months int
		end    int64
	)
	err := tx.QueryRow(ctx, "SELECT term_months, term_end FROM subscriptions WHERE id = ?"+tx.ForUpdate(), subscriptionID).Scan(&months, &end)
	if errors.Is(err, sql.ErrNoRows) {
		return fault.Errorf(protocol.ErrNotFound, "no subscription %s", subscriptionID)
	}
	if err != nil {
		return fmt.Errorf("renew: %w", err)
	}
	start := store.FromMillis(end)
	if start.Before(now) {
		start = now
	}
	_, err = tx.Exec(ctx, "UPDATE subscriptions SET term_start = ?, term_end = ?, renewal_order_id = NULL WHERE id = ?",
		store.Millis(start), store.Millis(start.AddDate(0, months, 0)), subscriptionID)
	if err != nil {
		return fmt.Errorf("renew: %w", err)
	}
	return nil
}

// DueForRenewal lists auto-renewing, unsuspended subscriptions whose term
// ends before before and that have no renewal order yet, soonest first.
func DueForRenewal(ctx context.Context, tx *store.Tx, now, before time.Time, limit int) ([]Subscription, error) {
	rows, err := tx.Query(ctx, `SELECT id, organization_id, plan_id, seats, assigned, term_months, term_start, term_end, created_at
		FROM subscriptions WHERE auto_renew = ? AND suspended_at IS NULL AND renewal_order_id IS NULL AND term_end <= ?
		ORDER BY term_end, id LIMIT ?`, true, store.Millis(before), limit)
	if err != nil {
		return nil, fmt.Errorf("due for renewal: %w", err)
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		var (
			s                   Subscription
			start, end, created int64
		)
		if err := rows.Scan(&s.ID, &s.OrganizationID, &s.PlanID, &s.Seats, &s.Assigned, &s.TermMonths, &start, &end, &created); err != nil {
			return nil, fmt.Errorf("due for renewal: %w", err)
		}
		s.TermStart, s.TermEnd, s.Created, s.AutoRenew = store.FromMillis(start), store.FromMillis(end), store.FromMillis(created), true
		out = append(out, s)
	}
	return out, rows.Err()
}

// SetRenewalOrder records the order that renews the subscription; it fails
// when the subscription already has one (another instance raised it).
func SetRenewalOrder(ctx context.Context, tx *store.Tx, subscriptionID, orderID string) error {
	n, err := tx.ExecAffected(ctx, "UPDATE subscriptions SET renewal_order_id = ? WHERE id = ? AND renewal_order_id IS NULL", orderID, subscriptionID)
	if err != nil {
		return fmt.Errorf("set renewal order: %w", err)
	}
	if n == 0 {
		return fault.Errorf(protocol.ErrNotFound, "subscription %s has a renewal order already", subscriptionID)
	}
	return nil
}
