package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// Locales are the languages an account may choose (pkg/i18n's catalog).
var locales = map[string]bool{"en": true, "fr": true}

// SetLocale remembers the language the account chose on the pages. Choosing
// the language it already has changes nothing and writes no journal row.
func (s *Service) SetLocale(ctx context.Context, accountID, locale string) error {
	if !locales[locale] {
		return invalid("language %q is not one of en, fr", locale)
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		n, err := tx.ExecAffected(ctx, "UPDATE accounts SET locale = ? WHERE id = ? AND (locale IS NULL OR locale <> ?)", locale, accountID, locale)
		if err != nil {
			return fmt.Errorf("set locale: %w", err)
		}
		if n == 0 {
			return nil
		}
		return journal.Record(ctx, tx, journal.Entry{At: s.now(), Actor: "account:" + accountID, Action: "account.locale",
			Target: accountID, Account: accountID, Details: map[string]any{"locale": locale}})
	})
}

// ChangePassword replaces the password of a signed-in account after checking
// its current one, and ends every other session of the account (keepSession
// is the session that asked, which stays signed in). Wrong current passwords
// count against the per-account sign-in limit, so a stolen session cannot
// be used to guess the password.
func (s *Service) ChangePassword(ctx context.Context, accountID, keepSession, current, newPassword, clientIP string) error {
	if err := checkPassword(newPassword); err != nil {
		return err
	}
	if len(current) > maxPassword {
		return errWrongPassword()
	}
	now := s.now()
	attempt, ok, err := s.loginAccount.Take(ctx, "password-change\x00"+accountID, now)
	if err != nil {
		return err
	}
	if !ok {
		return errf(protocol.ErrRateLimited, "too many wrong passwords; wait a few minutes and try again")
	}
	var hash string
	err = s.db.QueryRow(ctx, "SELECT password_hash FROM accounts WHERE id = ?", accountID).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		attempt.Done(ctx, now, false)
		return errSession()
	}
	if err != nil {
		attempt.Done(ctx, now, false)
		return fmt.Errorf("look up account: %w", err)
	}
	match, verr, gerr := s.verify(ctx, hash, current)
	if gerr != nil {
		attempt.Done(ctx, s.now(), false)
		return gerr
	}
	if !match || verr != nil {
		attempt.Done(ctx, s.now(), true)
		return errWrongPassword()
	}
	attempt.Done(ctx, s.now(), false)
	newHash, err := s.HashPassword(ctx, newPassword)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := SetPasswordHash(ctx, tx, accountID, newHash); err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		n, err := tx.ExecAffected(ctx, "DELETE FROM sessions WHERE account_id = ? AND token_hash <> ?", accountID, ids.HashSecret(keepSession))
		if err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		return journal.Record(ctx, tx, journal.Entry{At: s.now(), Actor: "account:" + accountID, Action: "password.change",
			Target: accountID, Account: accountID, Details: map[string]any{"sessions_revoked": n}})
	})
}
