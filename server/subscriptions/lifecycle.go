package subscriptions

import (
	"context"
	"fmt"
	"time"

	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// MaxTermMonths bounds a subscription's term.
const MaxTermMonths = 120

// change runs fn on the locked subscription in one transaction, then nudges
// the computers fn reports, and returns the subscription as it is after.
// orgID "" is the operator's reach over every organization.
func (s *Service) change(ctx context.Context, orgID, subID string, fn func(tx *store.Tx, sub Subscription, now time.Time) (nudge bool, err error)) (Subscription, error) {
	var (
		out     Subscription
		devices []string
	)
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		sub, err := lock(ctx, tx, orgID, subID)
		if err != nil {
			return err
		}
		nudge, err := fn(tx, sub, s.now())
		if err != nil {
			return err
		}
		if nudge {
			if devices, err = deviceIDs(ctx, tx, `SELECT d.id FROM devices d JOIN licenses l ON l.id = d.license_id
				WHERE l.subscription_id = ? AND l.revoked_at IS NULL AND d.deactivated_at IS NULL ORDER BY d.id`, sub.ID); err != nil {
				return err
			}
		}
		out, err = lock(ctx, tx, orgID, subID)
		return err
	})
	if err != nil {
		return Subscription{}, err
	}
	s.nudge(ctx, devices)
	return out, nil
}

func record(ctx context.Context, tx *store.Tx, p authz.Principal, now time.Time, sub Subscription, action string, details map[string]any) error {
	return journal.Record(ctx, tx, journal.Entry{At: now, Actor: p.Actor(), Action: action, Target: sub.ID, Organization: sub.OrganizationID, Details: details})
}

// setSuspended suspends or resumes the subscription's live licenses.
func setSuspended(ctx context.Context, tx *store.Tx, subID string, suspended bool) error {
	if _, err := tx.Exec(ctx, "UPDATE licenses SET suspended = ? WHERE subscription_id = ? AND revoked_at IS NULL", suspended, subID); err != nil {
		return fmt.Errorf("suspend licenses: %w", err)
	}
	return nil
}

// Suspend suspends a subscription (the operator: an unpaid invoice, say):
// its licenses are suspended, so its computers answer license_suspended at
// their next check-in (connected ones at once) but keep their seats, and no
// seat can be assigned. Suspending a suspended subscription changes nothing.
func (s *Service) Suspend(ctx context.Context, p authz.Principal, subID, reason string) (Subscription, error) {
	if !p.Operator {
		return Subscription{}, errForbidden("only the operator suspends a subscription")
	}
	if len(reason) > 500 {
		return Subscription{}, fault.Invalid("the reason has at most 500 bytes")
	}
	return s.change(ctx, "", subID, func(tx *store.Tx, sub Subscription, now time.Time) (bool, error) {
		if !sub.Suspended.IsZero() {
			return false, nil
		}
		if _, err := tx.Exec(ctx, "UPDATE subscriptions SET suspended_at = ? WHERE id = ?", store.Millis(now), sub.ID); err != nil {
			return false, fmt.Errorf("suspend subscription: %w", err)
		}
		if err := setSuspended(ctx, tx, sub.ID, true); err != nil {
			return false, err
		}
		return true, record(ctx, tx, p, now, sub, "subscription.suspend", map[string]any{"reason": reason})
	})
}

// Resume lifts a suspension: the licenses work again at their computers'
// next check-in, with no new activation. Resuming a subscription that is
// not suspended changes nothing.
func (s *Service) Resume(ctx context.Context, p authz.Principal, subID string) (Subscription, error) {
	if !p.Operator {
		return Subscription{}, errForbidden("only the operator resumes a subscription")
	}
	return s.change(ctx, "", subID, func(tx *store.Tx, sub Subscription, now time.Time) (bool, error) {
		if sub.Suspended.IsZero() {
			return false, nil
		}
		if _, err := tx.Exec(ctx, "UPDATE subscriptions SET suspended_at = NULL WHERE id = ?", sub.ID); err != nil {
			return false, fmt.Errorf("resume subscription: %w", err)
		}
		if err := setSuspended(ctx, tx, sub.ID, false); err != nil {
			return false, err
		}
		return true, record(ctx, tx, p, now, sub, "subscription.resume", map[string]any{"suspended_at": store.Millis(sub.Suspended)})
	})
}

// Extend moves a subscription's term end (the operator: a goodwill
// extension, a correction); its live licenses follow. The end must be after
// the term's start; setting the current end changes nothing.
func (s *Service) Extend(ctx context.Context, p authz.Principal, subID string, termEnd time.Time) (Subscription, error) {
	if !p.Operator {
		return Subscription{}, errForbidden("only the operator extends a subscription")
	}
	end := store.FromMillis(store.Millis(termEnd))
	return s.change(ctx, "", subID, func(tx *store.Tx, sub Subscription, now time.Time) (bool, error) {
		if !end.After(sub.TermStart) {
			return false, fault.Invalid("the term must end after it starts (%s)", sub.TermStart.Format(time.RFC3339))
		}
		if end.Equal(sub.TermEnd) {
			return false, nil
		}
		if _, err := tx.Exec(ctx, "UPDATE subscriptions SET term_end = ? WHERE id = ?", store.Millis(end), sub.ID); err != nil {
			return false, fmt.Errorf("extend subscription: %w", err)
		}
		if err := setLicenseTerm(ctx, tx, sub.ID, end); err != nil {
			return false, err
		}
		return true, record(ctx, tx, p, now, sub, "subscription.extend", map[string]any{"from": store.Millis(sub.TermEnd), "to": store.Millis(end)})
	})
}

// Change is a change to a subscription; nil fields stay as they are.
type Change struct {
	AutoRenew  *bool
	Seats      *int    // never below the assigned seats; only the operator adds seats outside an order
	PlanID     *string // the operator: the licenses' plan, features and profiles follow
	TermMonths *int    // the operator: the term of the next renewals
}

// Change changes a subscription, one journal row per field changed. An
// organization's admin turns auto-renewal on or off and gives back unused
// seats; the operator, reaching every organization (orgID ""), also changes
// the plan, the term and adds seats. Seats below those assigned are refused
// (seats_assigned).
func (s *Service) Change(ctx context.Context, p authz.Principal, orgID, subID string, c Change) (Subscription, error) {
	operator := p.Operator && orgID == ""
	if !operator && (c.PlanID != nil || c.TermMonths != nil) {
		return Subscription{}, errForbidden("only the operator changes a subscription's plan or term")
	}
	if c.Seats != nil && (*c.Seats < 0 || *c.Seats > MaxSeats) {
		return Subscription{}, fault.Invalid("seats must be between 0 and %d", MaxSeats)
	}
	if c.TermMonths != nil && (*c.TermMonths < 1 || *c.TermMonths > MaxTermMonths) {
		return Subscription{}, fault.Invalid("the term must be between 1 and %d months", MaxTermMonths)
	}
	return s.change(ctx, orgID, subID, func(tx *store.Tx, sub Subscription, now time.Time) (bool, error) {
		nudge := false
		if c.Seats != nil && *c.Seats != sub.Seats {
			if *c.Seats > sub.Seats && !operator {
				return false, errForbidden("seats are added by an order")
			}
			n, err := tx.ExecAffected(ctx, "UPDATE subscriptions SET seats = ? WHERE id = ? AND assigned <= ?", *c.Seats, sub.ID, *c.Seats)
			if err != nil {
				return false, fmt.Errorf("change seats: %w", err)
			}
			if n == 0 {
				return false, errSeatsAssigned(sub.Assigned)
			}
			if err := record(ctx, tx, p, now, sub, "subscription.seats", map[string]any{"from": sub.Seats, "to": *c.Seats}); err != nil {
				return false, err
			}
		}
		if c.AutoRenew != nil && *c.AutoRenew != sub.AutoRenew {
			if _, err := tx.Exec(ctx, "UPDATE subscriptions SET auto_renew = ? WHERE id = ?", *c.AutoRenew, sub.ID); err != nil {
				return false, fmt.Errorf("change auto-renewal: %w", err)
			}
			if err := record(ctx, tx, p, now, sub, "subscription.auto_renew", map[string]any{"auto_renew": *c.AutoRenew}); err != nil {
				return false, err
			}
		}
		if c.TermMonths != nil && *c.TermMonths != sub.TermMonths {
			if _, err := tx.Exec(ctx, "UPDATE subscriptions SET term_months = ? WHERE id = ?", *c.TermMonths, sub.ID); err != nil {
				return false, fmt.Errorf("change term: %w", err)
			}
			if err := record(ctx, tx, p, now, sub, "subscription.term", map[string]any{"from": sub.TermMonths, "to": *c.TermMonths}); err != nil {
				return false, err
			}
		}
		if c.PlanID != nil && *c.PlanID != sub.PlanID {
			pl, err := loadPlan(ctx, tx, *c.PlanID)
			if err != nil {
				return false, err
			}
			if _, err := tx.Exec(ctx, "UPDATE subscriptions SET plan_id = ? WHERE id = ?", pl.ID, sub.ID); err != nil {
				return false, fmt.Errorf("change plan: %w", err)
			}
			if _, err := tx.Exec(ctx, "UPDATE licenses SET plan = ?, features = ?, max_profiles = ? WHERE subscription_id = ? AND revoked_at IS NULL",
				pl.Name, featuresJSON(pl.Features), pl.MaxProfiles, sub.ID); err != nil {
				return false, fmt.Errorf("change the licenses' plan: %w", err)
			}
			if err := record(ctx, tx, p, now, sub, "subscription.plan", map[string]any{"from": sub.PlanCode, "to": pl.Code}); err != nil {
				return false, err
			}
			nudge = true
		}
		return nudge, nil
	})
}
