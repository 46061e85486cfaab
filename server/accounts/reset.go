package accounts

import (
	"context"
	"fmt"

	"github.com/entitle/entitle/server/store"
)

// CheckNewPassword applies the password rules to a new password (used by the
// password reset, package passwordreset).
func CheckNewPassword(pw string) error { return checkPassword(pw) }

// RevokeSessions ends every session of an account in tx and returns how many
// there were.
func RevokeSessions(ctx context.Context, tx *store.Tx, accountID string) (int64, error) {
	n, err := tx.ExecAffected(ctx, "DELETE FROM sessions WHERE account_id = ?", accountID)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	return n, nil
}
