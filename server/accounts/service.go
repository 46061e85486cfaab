package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/internal/ratelimit"
	"github.com/entitle/entitle/server/store"
)

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	SessionTTL time.Duration    // default 12 h
	Now        func() time.Time // default time.Now
	Logger     *slog.Logger
	// LoginFailuresPerIP and LoginFailuresPerAccount bound failed sign-ins
	// (password activations included); successful ones are not counted.
	// Defaults: 20 a minute, burst 20 per IP; 10 a minute, burst 10 per account.
	LoginFailuresPerIP      ratelimit.Limit
	LoginFailuresPerAccount ratelimit.Limit
	// Limits is where those limits are counted: in memory (the zero
	// value) or in the database, shared by every server instance.
	Limits ratelimit.Sources
	// PasswordHash sets the argon2id cost for new password hashes. Zero
	// fields take OWASP's recommendation (19 MiB, 2 passes, 1 thread).
	PasswordHash Argon2Params
	// PasswordWork bounds concurrent password hashing; see HashLimit.
	PasswordWork HashLimit
}

// Account is a customer account.
type Account struct {
	ID, Email string
	Created   time.Time
	Locale    string // the language chosen on the pages ("en", "fr"), "" until chosen
}

// Service is the accounts domain over a store.DB.
type Service struct {
	db                    *store.DB
	cfg                   Config
	now                   func() time.Time
	log                   *slog.Logger
	loginIP, loginAccount ratelimit.Counter
	gate                  *hashGate
	dummyHash             string // verified for unknown emails so timing does not reveal them
}

// New returns a Service.
func New(db *store.DB, cfg Config) (*Service, error) {
	if db == nil {
		return nil, errors.New("accounts: nil database")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.LoginFailuresPerIP = cfg.LoginFailuresPerIP.OrDefault(20, 20)
	cfg.LoginFailuresPerAccount = cfg.LoginFailuresPerAccount.OrDefault(10, 10)
	cfg.PasswordHash = cfg.PasswordHash.orDefault()
	s := &Service{
		db: db, cfg: cfg, now: cfg.Now, log: cfg.Logger,
		loginIP:      cfg.Limits.Counter("login.ip", cfg.LoginFailuresPerIP),
		loginAccount: cfg.Limits.Counter("login.account", cfg.LoginFailuresPerAccount),
		gate:         newHashGate(cfg.PasswordWork),
	}
	pw, err := ids.Token(24)
	if err != nil {
		return nil, err
	}
	if s.dummyHash, err = hashPassword(pw, cfg.PasswordHash); err != nil {
		return nil, err
	}
	return s, nil
}

// Bounds on passwords.
const (
	minPassword = 8
	maxPassword = 1024
)

func checkPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < minPassword || len(pw) > maxPassword {
		return fault.Invalid("a password must have %d to %d characters", minPassword, maxPassword)
	}
	return nil
}

// HashPassword hashes a new password at the configured cost, through the
// bound on concurrent hashing (protocol.ErrBusy when it is full).
func (s *Service) HashPassword(ctx context.Context, password string) (string, error) {
	var (
		hash string
		err  error
	)
	if gerr := s.gate.do(ctx, func() { hash, err = hashPassword(password, s.cfg.PasswordHash) }); gerr != nil {
		return "", gerr
	}
	return hash, err
}

// verify checks password against a stored hash through the bound on
// concurrent hashing.
func (s *Service) verify(ctx context.Context, phc, password string) (match bool, verr, gerr error) {
	gerr = s.gate.do(ctx, func() { match, verr = verifyPassword(phc, password) })
	return match, verr, gerr
}

// IDByEmail returns the id of the account with a normalized email, or
// sql.ErrNoRows.
func IDByEmail(ctx context.Context, tx *store.Tx, email string) (string, error) {
	var id string
	err := tx.QueryRow(ctx, "SELECT id FROM accounts WHERE lower(email) = ?", email).Scan(&id)
	return id, err
}

// EmailOf returns the email of the account id.
func EmailOf(ctx context.Context, tx *store.Tx, id string) (string, error) {
	var email string
	if err := tx.QueryRow(ctx, "SELECT email FROM accounts WHERE id = ?", id).Scan(&email); err != nil {
		return "", fmt.Errorf("look up account: %w", err)
	}
	return email, nil
}

// SetPasswordHash replaces an account's password hash in tx.
func SetPasswordHash(ctx context.Context, tx *store.Tx, id, hash string) error {
	_, err := tx.Exec(ctx, "UPDATE accounts SET password_hash = ? WHERE id = ?", hash, id)
	return err
}

func errf(code, format string, args ...any) *fault.Error { return fault.Errorf(code, format, args...) }

func invalid(format string, args ...any) *fault.Error { return fault.Invalid(format, args...) }
