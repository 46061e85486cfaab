package orders

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/mail"
	"github.com/entitle/entitle/server/organizations"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/subscriptions"
)

// Provider is how a confirmed order gets paid.
type Provider interface {
	// Name is stored on the order (orders.provider).
	Name() string
	// Issue runs in the confirming transaction, before the order is
	// written: it sets on o what its payment needs. An error rolls the
	// confirmation back.
	Issue(ctx context.Context, tx *store.Tx, now time.Time, o *Order) error
}

// Invoice is the invoice / purchase-order provider: nothing charges a card;
// the buyer pays the invoice by transfer and the operator records it.
type Invoice struct {
	DueIn time.Duration // default 30 days
}

// Name is "invoice".
func (Invoice) Name() string { return "invoice" }

// Issue gives o the next invoice number of the year (2026-000001, ...) and
// its due date. The counter row is taken with an upsert that, on
// PostgreSQL, locks it until the transaction ends, so concurrent
// confirmations queue and a rolled-back one gives its number back: the
// numbers of a year have no gaps. The year is UTC's.
func (p Invoice) Issue(ctx context.Context, tx *store.Tx, now time.Time, o *Order) error {
	due := p.DueIn
	if due <= 0 {
		due = 30 * 24 * time.Hour
	}
	year := now.UTC().Year()
	var n int64
	if err := tx.WriteRow(ctx, `INSERT INTO invoice_counters (year, last) VALUES (?, 1)
		ON CONFLICT (year) DO UPDATE SET last = invoice_counters.last + 1 RETURNING last`, []any{&n}, year); err != nil {
		return fmt.Errorf("take invoice number: %w", err)
	}
	o.InvoiceNumber = fmt.Sprintf("%d-%06d", year, n)
	o.Due = store.FromMillis(store.Millis(now.Add(due)))
	return nil
}

// Confirm confirms a validated order: the provider issues it (the invoice
// number and due date) and the invoice is mailed to the organization's
// billing contacts. purchaseOrder is the buyer's reference, printed on the
// invoice. Confirming a confirmed order returns it as it is.
func (s *Service) Confirm(ctx context.Context, actor, orgID, orderID, purchaseOrder string) (Order, error) {
	if err := fault.Wire(adminapi.ConfirmRequest{PurchaseOrder: purchaseOrder}.Validate()); err != nil {
		return Order{}, err
	}
	return s.transition(ctx, orgID, orderID, adminapi.OrderConfirmed, "validated", []string{adminapi.OrderValidated},
		func(tx *store.Tx, o *Order, now time.Time) error {
			if err := check(ctx, tx, o); err != nil {
				return err
			}
			o.PurchaseOrder = purchaseOrder
			if err := s.confirm(ctx, tx, actor, o, now); err != nil {
				return err
			}
			return mailBilling(ctx, tx, now, *o, mail.KindInvoice, map[string]string{"due": rfc3339(o.Due)})
		})
}

// confirm issues o (validated, or a new renewal order) through the
// provider, writes it confirmed, its journal row and its mail.
func (s *Service) confirm(ctx context.Context, tx *store.Tx, actor string, o *Order, now time.Time) error {
	if err := s.cfg.Provider.Issue(ctx, tx, now, o); err != nil {
		return err
	}
	if o.Validated.IsZero() {
		o.Validated = store.FromMillis(store.Millis(now))
	}
	o.Status, o.Provider, o.Confirmed = adminapi.OrderConfirmed, s.cfg.Provider.Name(), store.FromMillis(store.Millis(now))
	if err := exec(ctx, tx, `UPDATE orders SET status = ?, provider = ?, invoice_number = ?, purchase_order = ?, total_cents = ?,
		currency = ?, validated_at = ?, confirmed_at = ?, due_at = ? WHERE id = ?`,
		o.Status, o.Provider, o.InvoiceNumber, o.PurchaseOrder, o.TotalCents, o.Currency, ms(o.Validated), ms(o.Confirmed), ms(o.Due), o.ID); err != nil {
		return err
	}
	action := "order.confirm"
	if o.Kind == adminapi.OrderRenewal {
		action = "order.renewal"
	}
	if err := journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: action, Target: o.ID, Organization: o.OrganizationID,
		Details: map[string]any{"invoice": o.InvoiceNumber, "total_cents": o.TotalCents, "currency": o.Currency, "purchase_order": o.PurchaseOrder}}); err != nil {
		return err
	}
	return nil
}

// mailBilling enqueues one mail of kind per billing contact of o's
// organization, keyed by the order so a retry sends none twice.
func mailBilling(ctx context.Context, tx *store.Tx, now time.Time, o Order, kind string, args map[string]string) error {
	b, err := organizations.BillingOf(ctx, tx, o.OrganizationID)
	if err != nil {
		return err
	}
	args["organization"] = b.Name
	args["invoice"] = o.InvoiceNumber
	args["amount_cents"] = strconv.FormatInt(o.TotalCents, 10)
	args["currency"] = o.Currency
	for _, to := range b.Contacts {
		// The key names the recipient by a hash: an address may be 254
		// bytes, a key at most 200.
		key := kind + ":" + o.ID + ":" + ids.HashSecret(to)[:16]
		if _, err := mail.Enqueue(ctx, tx, now, mail.Message{Key: key, Kind: kind, To: to, Locale: b.Locale,
			Args: args, Organization: o.OrganizationID}); err != nil {
			return err
		}
	}
	return nil
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Pay records the payment of a confirmed order (the operator saw the
// transfer) and, in the same transaction, credits each line's seats to a
// subscription (a renewal order renews its subscriptions instead) and mails
// the receipt. Paying a paid order returns it as it is.
func (s *Service) Pay(ctx context.Context, actor, orderID, reference string) (Order, error) {
	if err := fault.Wire(adminapi.PaymentRequest{Reference: reference}.Validate()); err != nil {
		return Order{}, err
	}
	return s.transition(ctx, "", orderID, adminapi.OrderPaid, "confirmed", []string{adminapi.OrderConfirmed},
		func(tx *store.Tx, o *Order, now time.Time) error {
			subs := make([]string, 0, len(o.Lines))
			for i, l := range o.Lines {
				if o.Kind == adminapi.OrderRenewal {
					if err := subscriptions.Renew(ctx, tx, now, l.SubscriptionID, o.ID, actor); err != nil {
						return err
					}
					subs = append(subs, l.SubscriptionID)
					continue
				}
				id, err := subscriptions.Credit(ctx, tx, now, subscriptions.CreditSpec{OrganizationID: o.OrganizationID, PlanID: l.PlanID,
					Quantity: l.Quantity, SubscriptionID: l.SubscriptionID, OrderID: o.ID, Actor: actor})
				if err != nil {
					return err
				}
				if err := exec(ctx, tx, "UPDATE order_lines SET subscription_id = ? WHERE id = ?", id, l.ID); err != nil {
					return err
				}
				o.Lines[i].SubscriptionID = id
				subs = append(subs, id)
			}
			o.Status, o.Paid, o.PaymentReference = adminapi.OrderPaid, store.FromMillis(store.Millis(now)), reference
			if err := exec(ctx, tx, "UPDATE orders SET status = ?, paid_at = ?, payment_reference = ? WHERE id = ?",
				o.Status, store.Millis(now), reference, o.ID); err != nil {
				return err
			}
			if err := journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: "order.pay", Target: o.ID, Organization: o.OrganizationID,
				Details: map[string]any{"invoice": o.InvoiceNumber, "reference": reference, "subscriptions": subs}}); err != nil {
				return err
			}
			return mailBilling(ctx, tx, now, *o, mail.KindReceipt, map[string]string{"paid": rfc3339(now), "reference": reference})
		})
}
