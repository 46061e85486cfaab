package orders

import (
	"context"
	"fmt"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/mail"
	"github.com/entitle/entitle/server/plans"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/subscriptions"
)

// renewalActor is the journal's actor of the renewal job.
const renewalActor = "system"

// RaiseRenewals raises, for up to limit auto-renewing subscriptions whose
// term ends within the renewal lead and that have no renewal order, a
// confirmed renewal order (the subscription's seats at the plan's current
// price, with its invoice) and mails it to the billing contacts. Each
// subscription is its own transaction; SetRenewalOrder is the guard, so
// server instances running the job at once raise one order each. It returns
// how many orders it raised.
func (s *Service) RaiseRenewals(ctx context.Context, limit int) (int, error) {
	now := s.now()
	var due []subscriptions.Subscription
	if err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		due, err = subscriptions.DueForRenewal(ctx, tx, now, now.Add(s.cfg.RenewalLead), limit)
		return err
	}); err != nil {
		return 0, err
	}
	raised := 0
	for _, sub := range due {
		if ctx.Err() != nil {
			return raised, ctx.Err()
		}
		if sub.Seats < adminapi.MinQuantity || sub.Seats > adminapi.MaxQuantity {
			continue
		}
		err := s.db.InTx(ctx, func(tx *store.Tx) error { return s.raiseRenewal(ctx, tx, sub) })
		if err != nil {
			s.log.WarnContext(ctx, "could not raise a renewal order", "subscription", sub.ID, "err", err)
			continue
		}
		raised++
	}
	return raised, nil
}

func (s *Service) raiseRenewal(ctx context.Context, tx *store.Tx, sub subscriptions.Subscription) error {
	now := s.now()
	p, err := plans.Lookup(ctx, tx, sub.PlanID)
	if err != nil {
		return err
	}
	o, err := insertOrder(ctx, tx, sub.OrganizationID, renewalActor, adminapi.OrderRenewal, now)
	if err != nil {
		return err
	}
	if err := subscriptions.SetRenewalOrder(ctx, tx, sub.ID, o.ID); err != nil {
		return err
	}
	id, err := ids.New("oli")
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO order_lines (id, order_id, plan_id, quantity, unit_price_cents, subscription_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, o.ID, p.ID, sub.Seats, p.SeatPriceCents, sub.ID, store.Millis(now)); err != nil {
		return fmt.Errorf("renewal line: %w", err)
	}
	o.Lines = []Line{{ID: id, PlanID: p.ID, PlanCode: p.Code, PlanName: p.Name, Quantity: sub.Seats, UnitPriceCents: p.SeatPriceCents, SubscriptionID: sub.ID}}
	o.Currency, o.TotalCents = p.Currency, total(o.Lines)
	if err := s.confirm(ctx, tx, renewalActor, &o, now); err != nil {
		return err
	}
	return mailBilling(ctx, tx, now, o, mail.KindRenewalNotice, map[string]string{
		"plan": p.Name, "term_end": rfc3339(sub.TermEnd), "due": rfc3339(o.Due),
	})
}
