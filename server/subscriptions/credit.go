package subscriptions

import (
	"context"
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/store"
)

// MaxSeats bounds the seats of one subscription.
const MaxSeats = 1_000_000

// CreditSpec is a paid order line's seats joining a subscription.
type CreditSpec struct {
	OrganizationID string
	PlanID         string
	Quantity       int    // seats added, at least 1
	SubscriptionID string // the subscription that grows; "" = a new one
	OrderID        string // the paid order, for the journal
	Actor          string // who recorded the payment, e.g. "operator:<id>"
}

// Credit adds c.Quantity seats, in tx, to c.SubscriptionID (which must be
// the organization's and of the same plan) or to a new subscription of the
// plan whose term starts now and lasts the plan's term, and returns the
// subscription's id. It is called by server/orders in the transaction that
// records the payment; the order's state makes that call happen once. It
// writes no journal row: the payment's row (order.pay) names the
// subscriptions it credited, so one change is one row.
func Credit(ctx context.Context, tx *store.Tx, now time.Time, c CreditSpec) (string, error) {
	switch {
	case c.OrganizationID == "" || c.PlanID == "":
		return "", fault.Invalid("a credit needs an organization and a plan")
	case c.Quantity < 1 || c.Quantity > MaxSeats:
		return "", fault.Invalid("the quantity must be between 1 and %d seats", MaxSeats)
	}
	if c.SubscriptionID != "" {
		return c.SubscriptionID, addSeats(ctx, tx, now, c)
	}
	p, err := loadPlan(ctx, tx, c.PlanID)
	if err != nil {
		return "", err
	}
	id, err := ids.New("sub")
	if err != nil {
		return "", err
	}
	end := addMonths(now, p.TermMonths)
	if _, err := tx.Exec(ctx, `INSERT INTO subscriptions (id, organization_id, plan_id, seats, assigned, term_months, term_start, term_end,
		auto_renew, created_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?)`,
		id, c.OrganizationID, p.ID, c.Quantity, p.TermMonths, store.Millis(now), store.Millis(end), true, store.Millis(now)); err != nil {
		return "", fmt.Errorf("create subscription: %w", err)
	}
	return id, nil
}

func addSeats(ctx context.Context, tx *store.Tx, now time.Time, c CreditSpec) error {
	s, err := lock(ctx, tx, c.OrganizationID, c.SubscriptionID)
	if err != nil {
		return err
	}
	if s.PlanID != c.PlanID {
		return fault.Invalid("subscription %s is of another plan (%s); seats of a plan join a subscription of that plan", s.ID, s.PlanCode)
	}
	if s.Seats+c.Quantity > MaxSeats {
		return fault.Invalid("a subscription has at most %d seats", MaxSeats)
	}
	if _, err := tx.Exec(ctx, "UPDATE subscriptions SET seats = seats + ? WHERE id = ?", c.Quantity, s.ID); err != nil {
		return fmt.Errorf("add seats: %w", err)
	}
	return nil
}

// Renew extends subscriptionID by its term (term_months), in tx, when its
// renewal order orderID is paid: the new term starts where the current one
// ends, or now if it has already ended. The subscription's live licenses
// follow the new term end, and its open renewal order is cleared. Like
// Credit it writes no journal row: the paid renewal order's row tells it.
func Renew(ctx context.Context, tx *store.Tx, now time.Time, subscriptionID, orderID, actor string) error {
	s, err := lock(ctx, tx, "", subscriptionID)
	if err != nil {
		return err
	}
	start := s.TermEnd
	if start.Before(now) {
		start = now
	}
	end := addMonths(start, s.TermMonths)
	if _, err := tx.Exec(ctx, "UPDATE subscriptions SET term_start = ?, term_end = ?, renewal_order_id = NULL WHERE id = ?",
		store.Millis(start), store.Millis(end), s.ID); err != nil {
		return fmt.Errorf("renew subscription: %w", err)
	}
	return setLicenseTerm(ctx, tx, s.ID, end)
}

// setLicenseTerm moves the term end of the subscription's live licenses.
func setLicenseTerm(ctx context.Context, tx *store.Tx, subID string, end time.Time) error {
	if _, err := tx.Exec(ctx, "UPDATE licenses SET term_end = ? WHERE subscription_id = ? AND revoked_at IS NULL",
		store.Millis(end), subID); err != nil {
		return fmt.Errorf("move the licenses' term: %w", err)
	}
	return nil
}

// MaxDue bounds one DueForRenewal batch.
const MaxDue = 1000

// DueForRenewal returns, locked in tx, up to limit subscriptions whose term
// ends after now and no later than before, that renew automatically, are not
// suspended and have no open renewal order yet: those the renewal job raises
// a renewal order for (then SetRenewalOrder), soonest first. A subscription
// whose term has already ended is not renewed automatically. On PostgreSQL a
// concurrent job waits for the lock and then skips what this one marked.
func DueForRenewal(ctx context.Context, tx *store.Tx, now, before time.Time, limit int) ([]Subscription, error) {
	if limit < 1 || limit > MaxDue {
		return nil, fault.Invalid("limit must be between 1 and %d", MaxDue)
	}
	q := "SELECT " + cols + from + ` WHERE s.auto_renew = ? AND s.suspended_at IS NULL AND s.renewal_order_id IS NULL
		AND s.term_end > ? AND s.term_end <= ? ORDER BY s.term_end, s.id LIMIT ?`
	if tx.Dialect() == store.Postgres {
		q += " FOR UPDATE OF s"
	}
	rows, err := tx.Query(ctx, q, true, store.Millis(now), store.Millis(before), limit)
	if err != nil {
		return nil, fmt.Errorf("subscriptions due for renewal: %w", err)
	}
	defer rows.Close()
	out := []Subscription{}
	for rows.Next() {
		s, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("subscriptions due for renewal: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("subscriptions due for renewal: %w", err)
	}
	return out, nil
}

// SetRenewalOrder records orderID as subscriptionID's open renewal order, in
// tx, unless it has one already (order_state); "" clears it (the renewal
// order was cancelled). It writes no journal
// row: the caller's row (the renewal order raised or cancelled) tells of it.
func SetRenewalOrder(ctx context.Context, tx *store.Tx, subscriptionID, orderID string) error {
	if orderID == "" {
		n, err := tx.ExecAffected(ctx, "UPDATE subscriptions SET renewal_order_id = NULL WHERE id = ?", subscriptionID)
		if err != nil {
			return fmt.Errorf("clear renewal order: %w", err)
		}
		if n == 0 {
			return errNoSubscription()
		}
		return nil
	}
	// Guarded: of two instances raising the same renewal, one wins and the
	// other's transaction (its order and invoice number) rolls back.
	n, err := tx.ExecAffected(ctx, "UPDATE subscriptions SET renewal_order_id = ? WHERE id = ? AND renewal_order_id IS NULL", orderID, subscriptionID)
	if err != nil {
		return fmt.Errorf("set renewal order: %w", err)
	}
	if n == 0 {
		var one int
		if err := tx.QueryRow(ctx, "SELECT 1 FROM subscriptions WHERE id = ?", subscriptionID).Scan(&one); err != nil {
			return errNoSubscription()
		}
		return fault.Errorf(adminapi.ErrOrderState, "subscription %s has a renewal order already", subscriptionID)
	}
	return nil
}
