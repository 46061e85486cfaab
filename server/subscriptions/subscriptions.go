// Package subscriptions owns an organization's subscriptions: pools of seats
// of one plan with a term and auto-renewal, credited when an order is paid
// (Credit, Renew, called by server/orders in its own transaction), and the
// assignment of a seat to a member, which issues that member a license of the
// plan (server/licenses) and revokes it when the seat is released.
//
// A seat is taken with a guarded UPDATE (assigned < seats), so concurrent
// assignments can never over-assign; every change writes its journal row in
// its transaction.
package subscriptions

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/store"
)

// Subscription is an organization's pool of seats of one plan.
type Subscription struct {
	ID             string
	OrganizationID string
	PlanID         string
	PlanCode       string
	PlanName       string
	Seats          int
	Assigned       int
	TermMonths     int
	TermStart      time.Time
	TermEnd        time.Time
	AutoRenew      bool
	Suspended      time.Time // zero = not suspended
	RenewalOrderID string    // the open renewal order, "" = none
	Created        time.Time
}

// cols selects a Subscription (scan reads it); the query aliases
// subscriptions as s and joins plans as p (from does).
const cols = `s.id, s.organization_id, s.plan_id, p.code, p.name, s.seats, s.assigned, s.term_months,
	s.term_start, s.term_end, s.auto_renew, s.suspended_at, s.renewal_order_id, s.created_at`

const from = ` FROM subscriptions s JOIN plans p ON p.id = s.plan_id`

type scanner interface{ Scan(...any) error }

func scan(row scanner) (Subscription, error) {
	var (
		s                   Subscription
		start, end, created int64
		suspended           sql.NullInt64
		renewal             sql.NullString
	)
	if err := row.Scan(&s.ID, &s.OrganizationID, &s.PlanID, &s.PlanCode, &s.PlanName, &s.Seats, &s.Assigned, &s.TermMonths,
		&start, &end, &s.AutoRenew, &suspended, &renewal, &created); err != nil {
		return Subscription{}, err
	}
	s.TermStart, s.TermEnd, s.Created = store.FromMillis(start), store.FromMillis(end), store.FromMillis(created)
	if suspended.Valid {
		s.Suspended = store.FromMillis(suspended.Int64)
	}
	s.RenewalOrderID = renewal.String
	return s, nil
}

func errNoSubscription() *fault.Error {
	return fault.Errorf(protocol.ErrNotFound, "no such subscription in this organization")
}

// lock returns the subscription locked for the rest of tx; orgID "" matches
// any organization (the operator's and the orders' calls).
func lock(ctx context.Context, tx *store.Tx, orgID, subID string) (Subscription, error) {
	q := "SELECT " + cols + from + " WHERE s.id = ?"
	args := []any{subID}
	if orgID != "" {
		q += " AND s.organization_id = ?"
		args = append(args, orgID)
	}
	if tx.Dialect() == store.Postgres {
		q += " FOR UPDATE OF s"
	}
	s, err := scan(tx.QueryRow(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Subscription{}, errNoSubscription()
	}
	if err != nil {
		return Subscription{}, fmt.Errorf("look up subscription: %w", err)
	}
	return s, nil
}

// plan is what a subscription's licenses are issued from: a row of the
// operator's catalog (table plans, owned by server/plans), read here with
// only the columns a license needs.
type plan struct {
	ID, Code, Name string
	Features       []string
	MaxProfiles    int
	DevicesPerSeat int
	TermMonths     int
}

func loadPlan(ctx context.Context, tx *store.Tx, planID string) (plan, error) {
	var (
		p        plan
		features string
	)
	err := tx.QueryRow(ctx, "SELECT id, code, name, features, max_profiles, devices_per_seat, term_months FROM plans WHERE id = ?", planID).
		Scan(&p.ID, &p.Code, &p.Name, &features, &p.MaxProfiles, &p.DevicesPerSeat, &p.TermMonths)
	if errors.Is(err, sql.ErrNoRows) {
		return plan{}, fault.Errorf(protocol.ErrNotFound, "no such plan")
	}
	if err != nil {
		return plan{}, fmt.Errorf("look up plan: %w", err)
	}
	if err := json.Unmarshal([]byte(features), &p.Features); err != nil {
		return plan{}, fmt.Errorf("plan %s: features: %w", p.ID, err)
	}
	if p.Features == nil {
		p.Features = []string{}
	}
	return p, nil
}

// addMonths moves t by n calendar months (a term of 12 months from
// 31 January 2030 ends on 31 January 2031).
func addMonths(t time.Time, n int) time.Time { return t.AddDate(0, n, 0) }
