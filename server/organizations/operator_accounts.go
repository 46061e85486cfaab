package organizations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// GrantOperator makes the account of email an operator of the web console
// and returns its id. Granting twice changes nothing (and journals nothing
// the second time).
func (s *Service) GrantOperator(ctx context.Context, actor, email string) (string, error) {
	var id string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if id, err = accountByEmail(ctx, tx, email); err != nil {
			return err
		}
		now := s.now()
		n, err := tx.ExecAffected(ctx, "INSERT INTO operator_accounts (account_id, granted_by, granted_at) VALUES (?, ?, ?) ON CONFLICT (account_id) DO NOTHING",
			id, actor, store.Millis(now))
		if err != nil {
			return fmt.Errorf("grant operator: %w", err)
		}
		if n == 0 {
			return nil
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: "operator.account.grant", Target: id})
	})
	return id, err
}

// RevokeOperator takes the console's operator pages from the account of
// email at once; revoking an account that is not an operator is not an
// error (and journals nothing).
func (s *Service) RevokeOperator(ctx context.Context, actor, email string) (string, error) {
	var id string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if id, err = accountByEmail(ctx, tx, email); err != nil {
			return err
		}
		n, err := tx.ExecAffected(ctx, "DELETE FROM operator_accounts WHERE account_id = ?", id)
		if err != nil {
			return fmt.Errorf("revoke operator: %w", err)
		}
		if n == 0 {
			return nil
		}
		return journal.Record(ctx, tx, journal.Entry{At: s.now(), Actor: actor, Action: "operator.account.revoke", Target: id})
	})
	return id, err
}

// IsOperator reports whether accountID is an operator of the web console.
func (s *Service) IsOperator(ctx context.Context, accountID string) (bool, error) {
	var one int
	err := s.db.QueryRow(ctx, "SELECT 1 FROM operator_accounts WHERE account_id = ?", accountID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("is operator: %w", err)
	}
	return true, nil
}
