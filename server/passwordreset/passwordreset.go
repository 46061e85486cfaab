// Package passwordreset is "forgot password": a person asks for a reset by
// email and, when an account has that email, gets a mail (through the outbox,
// in the same transaction) with a link carrying a random single-use token
// that expires after an hour; only the token's hash is stored. Setting the new
// password consumes the token and signs the account out everywhere.
//
// The answer to a request never says whether the account exists. Requests are
// limited per client IP and per email address.
package passwordreset

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/internal/ratelimit"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/mail"
	"github.com/entitle/entitle/server/store"
)

// PathResetPage is the web page the mailed link opens (package web).
const PathResetPage = "/password/reset"

// Hasher hashes a new password (*accounts.Service).
type Hasher interface {
	HashPassword(ctx context.Context, password string) (string, error)
}

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	PublicURL string           // base of the link in the mail
	TTL       time.Duration    // default 1 h
	Now       func() time.Time // default time.Now
	Logger    *slog.Logger
	// PerIP and PerEmail bound reset requests; defaults 10 a minute, burst
	// 10 per IP, and 3 an hour (0.05 a minute), burst 3 per email.
	PerIP, PerEmail ratelimit.Limit
}

// Service is the password reset domain.
type Service struct {
	db              *store.DB
	hash            Hasher
	cfg             Config
	perIP, perEmail *ratelimit.Limiters
}

// New returns a Service.
func New(db *store.DB, hash Hasher, cfg Config) (*Service, error) {
	if db == nil || hash == nil {
		return nil, errors.New("passwordreset: needs a database and a hasher")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("passwordreset: public URL %q must be an absolute http(s) URL", cfg.PublicURL)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.TTL <= 0 {
		cfg.TTL = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.PerIP = cfg.PerIP.OrDefault(10, 10)
	cfg.PerEmail = cfg.PerEmail.OrDefault(0.05, 3)
	return &Service{db: db, hash: hash, cfg: cfg, perIP: ratelimit.New(cfg.PerIP), perEmail: ratelimit.New(cfg.PerEmail)}, nil
}

func rateLimited() error {
	return fault.Errorf(protocol.ErrRateLimited, "too many password reset requests; wait a while and try again")
}

// Forgot handles a reset request for email from clientIP, in the language
// locale for the mail. It returns nil whether or not an account has the
// email (and for an address that is not one), so the caller's answer is the
// same; only a rate limit or an internal error is returned.
func (s *Service) Forgot(ctx context.Context, email, clientIP, locale string) error {
	now := s.cfg.Now()
	if !s.perIP.Allow(clientIP, now) {
		return rateLimited()
	}
	e, err := check.NormalizeEmail(email)
	if err != nil {
		return nil // no account can have it; answered like any other
	}
	if !s.perEmail.Allow(e, now) {
		return rateLimited()
	}
	token, err := ids.Token(32)
	if err != nil {
		return err
	}
	expires := now.Add(s.cfg.TTL)
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		id, err := accounts.IDByEmail(ctx, tx, e)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("password reset: %w", err)
		}
		hash := ids.HashSecret(token)
		if _, err := tx.Exec(ctx, "INSERT INTO password_resets (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
			hash, id, store.Millis(now), store.Millis(expires)); err != nil {
			return fmt.Errorf("password reset: %w", err)
		}
		if _, err := mail.Enqueue(ctx, tx, now, mail.Message{
			Key: "password_reset:" + hash[:32], Kind: mail.KindPasswordReset, To: e, Locale: locale,
			Args: map[string]string{
				"reset_url": s.cfg.PublicURL + PathResetPage + "?token=" + url.QueryEscape(token),
				"expires":   expires.UTC().Format(time.RFC3339),
			},
		}); err != nil {
			return err
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: "ip:" + clientIP, Action: "password.forgot", Target: id, IP: clientIP})
	})
}

func errToken() error {
	return fault.Errorf(protocol.ErrExpiredToken, "this password reset link is unknown, used or expired; ask for a new one")
}

// Reset sets the password of the account token was issued for, consumes
// every pending token of the account and revokes all its sessions.
func (s *Service) Reset(ctx context.Context, token, newPassword string) error {
	if check.Secret("token", token) != nil {
		return errToken()
	}
	if err := accounts.CheckNewPassword(newPassword); err != nil {
		return err
	}
	pwHash, err := s.hash.HashPassword(ctx, newPassword)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	hash := ids.HashSecret(token)
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		var id string
		err := tx.QueryRow(ctx, "SELECT account_id FROM password_resets WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
			hash, store.Millis(now)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return errToken()
		}
		if err != nil {
			return fmt.Errorf("password reset: %w", err)
		}
		// The guarded update makes a token single use even under a race.
		n, err := tx.ExecAffected(ctx, "UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL", store.Millis(now), hash)
		if err != nil {
			return fmt.Errorf("password reset: %w", err)
		}
		if n != 1 {
			return errToken()
		}
		if _, err := tx.Exec(ctx, "UPDATE password_resets SET used_at = ? WHERE account_id = ? AND used_at IS NULL", store.Millis(now), id); err != nil {
			return fmt.Errorf("password reset: %w", err)
		}
		if err := accounts.SetPasswordHash(ctx, tx, id, pwHash); err != nil {
			return fmt.Errorf("password reset: %w", err)
		}
		revoked, err := accounts.RevokeSessions(ctx, tx, id)
		if err != nil {
			return err
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: "account:" + id, Action: "password.reset", Target: id,
			Details: map[string]any{"sessions_revoked": revoked}})
	})
}
