// Package mail is the server's outgoing mail: a change that tells someone
// about itself enqueues a Message in its own transaction (Enqueue), so the
// mail exists exactly when the change committed; a worker sends the outbox
// over SMTP, retrying with backoff, each mail once.
//
// A Message carries a kind and arguments, never text: the words are made when
// the mail is sent, from the catalog (pkg/i18n), in the recipient's language.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"time"

	"github.com/entitle/entitle/server/internal/column"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/store"
)

// Kinds of mail. Each has its subject and body in the catalog.
const (
	KindInvitation     = "invitation"      // args: organization, inviter, accept_url, expires
	KindAssignment     = "assignment"      // args: organization, plan, install_url, license_key
	KindPasswordReset  = "password_reset"  // args: reset_url, expires
	KindRenewalNotice  = "renewal_notice"  // args: organization, plan, term_end, invoice, amount_cents, currency, due
	KindInvoice        = "invoice"         // args: organization, invoice, amount_cents, currency, due
	KindReceipt        = "payment_receipt" // args: organization, invoice, amount_cents, currency, paid, reference
	KindLicenseRevoked = "license_revoked" // args: organization, plan
)

// Message is one mail to enqueue.
type Message struct {
	// Key makes Enqueue idempotent: a second Message with the same Key is
	// not enqueued again. Derive it from what the mail is about, e.g.
	// "invitation:<invitation id>", so a retried request sends one mail.
	Key          string
	Kind         string
	To           string            // one address
	Locale       string            // BCP 47 tag of the recipient's language; "" = English
	Args         map[string]string // the catalog template's arguments
	Organization string            // the organization the mail is sent for, if any
}

// Validate checks a Message before it is stored.
func (m Message) Validate() error {
	switch {
	case m.Key == "" || len(m.Key) > 200:
		return errors.New("mail: idempotency key must be 1 to 200 bytes")
	case m.Kind == "" || len(m.Kind) > 64:
		return errors.New("mail: kind required")
	case len(m.To) > 254:
		return errors.New("mail: recipient too long")
	case len(m.Locale) > 35:
		return errors.New("mail: locale too long")
	}
	if a, err := mail.ParseAddress(m.To); err != nil || a.Address != m.To {
		return fmt.Errorf("mail: recipient %q is not one address", m.To)
	}
	return nil
}

// Enqueue stores m in the outbox within tx, to be sent once tx commits. It
// returns the outbox row's id, or "" when a mail with the same Key was already
// enqueued (nothing is written then).
func Enqueue(ctx context.Context, tx *store.Tx, now time.Time, m Message) (string, error) {
	if err := m.Validate(); err != nil {
		return "", err
	}
	id, err := ids.New("mail")
	if err != nil {
		return "", err
	}
	args := "{}"
	if len(m.Args) > 0 {
		args = column.JSON(m.Args)
	}
	n, err := tx.ExecAffected(ctx, `INSERT INTO mail_outbox
		(id, idempotency_key, organization_id, kind, recipient, locale, args, created_at, next_attempt_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
		id, m.Key, m.Organization, m.Kind, m.To, m.Locale, args, store.Millis(now), store.Millis(now))
	if err != nil {
		return "", fmt.Errorf("enqueue %s mail: %w", m.Kind, err)
	}
	if n == 0 {
		return "", nil
	}
	return id, nil
}
