package organizations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/store"
)

// Billing is what an invoice needs of an organization: its name, its
// language and who receives its invoices.
type Billing struct {
	Name, Locale string
	// Contacts are the emails of the members flagged billing contacts, or
	// when there is none, of the owners; oldest membership first.
	Contacts []string
}

// BillingOf reads orgID's billing details within tx.
func BillingOf(ctx context.Context, tx *store.Tx, orgID string) (Billing, error) {
	var b Billing
	err := tx.QueryRow(ctx, "SELECT name, default_locale FROM organizations WHERE id = ?", orgID).Scan(&b.Name, &b.Locale)
	if errors.Is(err, sql.ErrNoRows) {
		return Billing{}, errNotFound()
	}
	if err != nil {
		return Billing{}, fmt.Errorf("billing details: %w", err)
	}
	for _, q := range []struct {
		where string
		arg   any
	}{{"m.billing = ?", true}, {"m.role = ?", string(authz.RoleOwner)}} {
		rows, err := tx.Query(ctx, `SELECT a.email FROM memberships m JOIN accounts a ON a.id = m.account_id
			WHERE m.organization_id = ? AND `+q.where+` ORDER BY m.created_at, m.id LIMIT 50`, orgID, q.arg)
		if err != nil {
			return Billing{}, fmt.Errorf("billing contacts: %w", err)
		}
		for rows.Next() {
			var e string
			if err := rows.Scan(&e); err != nil {
				rows.Close()
				return Billing{}, fmt.Errorf("billing contacts: %w", err)
			}
			b.Contacts = append(b.Contacts, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return Billing{}, fmt.Errorf("billing contacts: %w", err)
		}
		if len(b.Contacts) > 0 {
			break
		}
	}
	return b, nil
}
