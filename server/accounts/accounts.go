// Package accounts owns customer accounts: creating them, signing in with a
// password (argon2id, failed attempts limited per client IP and per account)
// and web sessions.
package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

const sessionKindWeb = "web"

// CreateAccount creates an account. Emails are unique regardless of case.
func (s *Service) CreateAccount(ctx context.Context, email, password string) (Account, error) {
	e, err := check.NormalizeEmail(email)
	if err != nil {
		return Account{}, err
	}
	if err := checkPassword(password); err != nil {
		return Account{}, err
	}
	hash, err := s.HashPassword(ctx, password)
	if err != nil {
		return Account{}, err
	}
	var acc Account
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		acc, err = s.InsertAccount(ctx, tx, e, hash, "admin")
		return err
	})
	return acc, err
}

// InsertAccount adds an account with a password hash in tx, audited as
// actor; email must be normalized.
func (s *Service) InsertAccount(ctx context.Context, tx *store.Tx, email, hash, actor string) (Account, error) {
	acc, err := s.InsertAccountUnjournaled(ctx, tx, email, hash)
	if err != nil {
		return Account{}, err
	}
	if err := journal.Record(ctx, tx, journal.Entry{At: acc.Created, Actor: actor, Action: "account.create", Target: acc.ID, Details: map[string]any{"email": email}}); err != nil {
		return Account{}, err
	}
	return acc, nil
}

// InsertAccountUnjournaled adds an account in tx for a caller whose own
// journal row tells of it (an accepted invitation: one row per request).
func (s *Service) InsertAccountUnjournaled(ctx context.Context, tx *store.Tx, email, hash string) (Account, error) {
	id, err := ids.New("acc")
	if err != nil {
		return Account{}, err
	}
	now := s.now()
	_, err = tx.Exec(ctx, "INSERT INTO accounts (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)", id, email, hash, store.Millis(now))
	if store.IsUniqueViolation(err) {
		return Account{}, invalid("an account for %s already exists", email)
	}
	if err != nil {
		return Account{}, fmt.Errorf("create account: %w", err)
	}
	return Account{ID: id, Email: email, Created: store.FromMillis(store.Millis(now))}, nil
}

func errWrongPassword() *fault.Error {
	return errf(protocol.ErrInvalidCredentials, "the email address or password is wrong")
}

// Login checks a password. Unknown emails and wrong passwords take the same
// time and give the same error. Completed failed attempts are limited per
// client IP and per email address from that IP (never per account alone, so
// no one can lock an owner out from elsewhere); attempts in flight and
// successful ones do not count.
func (s *Service) Login(ctx context.Context, email, password, clientIP string) (Account, error) {
	e, err := check.NormalizeEmail(email)
	if err != nil {
		return Account{}, err
	}
	if err := checkPassword(password); err != nil {
		return Account{}, err
	}
	now := s.now()
	ipAttempt, ok, err := s.loginIP.Take(ctx, clientIP, now)
	if err != nil {
		return Account{}, err
	}
	if !ok {
		return Account{}, errf(protocol.ErrRateLimited, "too many failed sign-in attempts from your network address; wait a few minutes and try again")
	}
	// Per account and source address, not per account alone: an attacker
	// who uses up the attempts from one address does not lock the owner
	// out from another.
	accAttempt, ok, err := s.loginAccount.Take(ctx, e+"\x00"+clientIP, now)
	if err != nil {
		ipAttempt.Done(ctx, now, false)
		return Account{}, err
	}
	if !ok {
		ipAttempt.Done(ctx, now, false)
		return Account{}, errf(protocol.ErrRateLimited, "too many failed sign-in attempts for %s from your network address; wait a few minutes and try again", e)
	}

	acc, hash, err := s.accountByEmail(ctx, e)
	known := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		ipAttempt.Done(ctx, now, false)
		accAttempt.Done(ctx, now, false)
		return Account{}, err
	}
	if !known {
		hash = s.dummyHash
	}
	match, verr, gerr := s.verify(ctx, hash, password)
	if gerr != nil {
		// Refused before any work: neither a failure nor a success.
		ipAttempt.Done(ctx, s.now(), false)
		accAttempt.Done(ctx, s.now(), false)
		return Account{}, gerr
	}
	if verr != nil {
		s.log.Error("stored password hash is unusable", "account", acc.ID, "err", verr)
	}
	ok = known && match && verr == nil
	end := s.now()
	ipAttempt.Done(ctx, end, !ok)
	lockedOut := accAttempt.Done(ctx, end, !ok)
	if ok {
		return acc, nil
	}
	s.recordFailure(ctx, acc.ID, clientIP, end, lockedOut && known)
	return Account{}, errWrongPassword()
}

// recordFailure journals a failed sign-in (login.fail), or the one that hit
// the account's failed-login limit (login.lockout), in its own transaction:
// the attempt changed nothing else. The row belongs to the account tried
// (accountID, "" when the email is unknown), so its owner sees it. Attempts
// the rate limits refuse before any check are not journaled, so a flood
// cannot fill the journal.
func (s *Service) recordFailure(ctx context.Context, accountID, clientIP string, at time.Time, lockout bool) {
	action := "login.fail"
	if lockout {
		action = "login.lockout"
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		return journal.Record(ctx, tx, journal.Entry{At: at, Actor: "ip:" + clientIP, Action: action, Target: accountID, Account: accountID, IP: clientIP})
	})
	if err != nil {
		s.log.Warn("could not journal a failed sign-in", "account", accountID, "err", err)
	}
}

func (s *Service) accountByEmail(ctx context.Context, email string) (Account, string, error) {
	var (
		acc     Account
		hash    string
		created int64
		locale  sql.NullString
	)
	err := s.db.QueryRow(ctx, "SELECT id, email, password_hash, created_at, locale FROM accounts WHERE lower(email) = ?", email).
		Scan(&acc.ID, &acc.Email, &hash, &created, &locale)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Account{}, "", err
		}
		return Account{}, "", fmt.Errorf("look up account: %w", err)
	}
	acc.Created, acc.Locale = store.FromMillis(created), locale.String
	return acc, hash, nil
}

// NewSession starts a web session and returns its bearer token; only the
// token's hash is stored.
func (s *Service) NewSession(ctx context.Context, accountID string) (string, error) {
	if err := check.Secret("account id", accountID); err != nil {
		return "", err
	}
	token, err := ids.Token(32)
	if err != nil {
		return "", err
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.insertSession(ctx, tx, token, accountID, now); err != nil {
			return err
		}
		// The sign-in's journal row.
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: "account:" + accountID, Action: "session.create", Target: accountID})
	})
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

// NewSessionIn signs accountID in within tx, for a caller whose own journal
// row tells of it (an accepted invitation), and returns the bearer token.
func (s *Service) NewSessionIn(ctx context.Context, tx *store.Tx, accountID string) (string, error) {
	token, err := ids.Token(32)
	if err != nil {
		return "", err
	}
	if err := s.insertSession(ctx, tx, token, accountID, s.now()); err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

func (s *Service) insertSession(ctx context.Context, tx *store.Tx, token, accountID string, now time.Time) error {
	// Sweeping here keeps the table bounded without a background job.
	if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE expires_at <= ?", store.Millis(now)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, "INSERT INTO sessions (token_hash, account_id, kind, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
		ids.HashSecret(token), accountID, sessionKindWeb, store.Millis(now), store.Millis(now.Add(s.cfg.SessionTTL)))
	return err
}

func errSession() *fault.Error {
	return errf(protocol.ErrInvalidCredentials, "your session has ended; sign in again")
}

// SessionAccount returns the account a live session belongs to.
func (s *Service) SessionAccount(ctx context.Context, token string) (Account, error) {
	if check.Secret("session", token) != nil {
		return Account{}, errSession()
	}
	var (
		acc     Account
		created int64
		locale  sql.NullString
	)
	err := s.db.QueryRow(ctx, `SELECT a.id, a.email, a.created_at, a.locale FROM sessions s JOIN accounts a ON a.id = s.account_id
		WHERE s.token_hash = ? AND s.expires_at > ?`, ids.HashSecret(token), store.Millis(s.now())).Scan(&acc.ID, &acc.Email, &created, &locale)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, errSession()
	}
	if err != nil {
		return Account{}, fmt.Errorf("look up session: %w", err)
	}
	acc.Created, acc.Locale = store.FromMillis(created), locale.String
	return acc, nil
}

// EndSession signs a session out; ending an unknown session is not an error.
func (s *Service) EndSession(ctx context.Context, token string) error {
	if check.Secret("session", token) != nil {
		return nil
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var accountID string
		err := tx.WriteRow(ctx, "DELETE FROM sessions WHERE token_hash = ? RETURNING account_id", []any{&accountID}, ids.HashSecret(token))
		if errors.Is(err, sql.ErrNoRows) {
			return nil // nothing ended, nothing to journal
		}
		if err != nil {
			return err
		}
		return journal.Record(ctx, tx, journal.Entry{At: s.now(), Actor: "account:" + accountID, Action: "session.end", Target: accountID})
	})
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}
