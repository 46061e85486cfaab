// Package licensing is the licensing server's business logic: accounts and
// sessions, licenses and their seats, device activation (by license key, by
// password, and by RFC 8628 browser sign-in), check-ins that renew signed
// leases, and the signing keys behind them.
//
// Every error a client should see is a *Error carrying a protocol.Err* code;
// any other error is internal and must be reported to clients as
// protocol.ErrInternal without its text.
//
// Rate limits (login failures per IP and per account, activations per license,
// failed device user-code lookups per IP) are kept in memory per Service: behind a load balancer with several server
// instances each instance counts on its own, so the effective limit is
// multiplied by the number of instances.
package licensing

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/store"
)

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	Issuer             string           // lease "iss" (the server's public base URL)
	OfflineGrace       time.Duration    // default 7 days: lease exp = min(license term end, now+grace)
	CheckinInterval    time.Duration    // default 15 min: lease "chk" = now + interval; CheckinAfter in responses
	DeviceCodeTTL      time.Duration    // default 10 min
	DevicePollInterval time.Duration    // default 5 s
	SessionTTL         time.Duration    // default 12 h
	Now                func() time.Time // default time.Now
	Logger             *slog.Logger

	// LoginFailuresPerIP and LoginFailuresPerAccount bound failed sign-ins
	// (password activations included); successful ones are not counted.
	// Defaults: 20 a minute, burst 20 per IP; 10 a minute, burst 10 per account.
	LoginFailuresPerIP      RateLimit
	LoginFailuresPerAccount RateLimit
	// ActivationsPerLicense bounds activation churn on one license
	// (re-activations included). Default 10 a minute, burst 20.
	ActivationsPerLicense RateLimit
	// UserCodeFailuresPerIP bounds lookups of device sign-in user codes
	// that match no sign-in, the cost of guessing codes. Default 10 a
	// minute, burst 10 per IP.
	UserCodeFailuresPerIP RateLimit
	// PasswordHash sets the argon2id cost for new password hashes. Zero
	// fields take OWASP's recommendation (19 MiB, 2 passes, 1 thread).
	PasswordHash Argon2Params
	// KeyRefresh is how often a Service that signs leases checks which
	// signing key is active, to follow a rotation made by another process
	// or server instance without a restart. Default 30 s.
	KeyRefresh time.Duration
}

// RateLimit is a token bucket: Burst events at once, refilled at PerMinute.
// The zero value means the default; Off disables the limit.
type RateLimit struct {
	PerMinute float64
	Burst     int
	Off       bool
}

func (r RateLimit) orDefault(perMinute float64, burst int) RateLimit {
	if r.Off {
		return r
	}
	if r.PerMinute <= 0 {
		r.PerMinute = perMinute
	}
	if r.Burst <= 0 {
		r.Burst = burst
	}
	return r
}

// Plan is what a license grants.
type Plan struct {
	Name        string
	Features    []string
	MaxProfiles int
}

// Account is a customer account.
type Account struct {
	ID, Email string
	Created   time.Time
}

// License is a license and its seat usage. Key is formatted (XXXXX-XXXXX-...).
type License struct {
	ID, Key, OwnerAccountID, OwnerEmail string
	Plan                                Plan
	Seats, SeatsUsed                    int
	TermStart                           time.Time
	TermEnd                             time.Time // zero = none
	Subscription, Suspended             bool
	// ManagementMode is how the organization manages the license's
	// computers, carried in every lease: one of the ManagementModes.
	ManagementMode string
	Created        time.Time
}

// LicenseSpec describes a license to create. The owner account must exist.
// A zero TermStart means now; a zero TermEnd means no end.
type LicenseSpec struct {
	OwnerEmail         string
	Plan               Plan
	Seats              int
	TermStart, TermEnd time.Time
	Subscription       bool
	ManagementMode     string // one of ManagementModes; "" = not managed
}

// Management modes of a license, as leases carry them ("mgmt").
const (
	ManagedNot         = ""             // not managed by an organization
	ManagedLocalRemote = "local_remote" // the person and the administrator
	ManagedLocal       = "local"        // the person only
	ManagedRemote      = "remote"       // the administrator only: the computer may not deactivate itself
)

// ManagementModes lists the valid management modes.
func ManagementModes() []string {
	return []string{ManagedNot, ManagedLocalRemote, ManagedLocal, ManagedRemote}
}

// Device is an activation of a license on one computer.
type Device struct {
	ID, LicenseID, LicenseKey, Fingerprint string
	Facts                                  protocol.DeviceFacts
	ActivatedAt, LastSeen                  time.Time
	Active                                 bool
	Profiles                               *protocol.ProfileSummary
}

// DeviceAuthInfo describes a pending browser sign-in, for the page where a
// person approves it. Status is pending, approved, denied, consumed or expired.
type DeviceAuthInfo struct {
	UserCode           string
	Facts              protocol.DeviceFacts
	Requested, Expires time.Time
	Status             string
}

// Demo is the demo account created by SeedDemo.
type Demo struct {
	Email, Password, LicenseKey string
	Seats                       int
}

// Error is an error a client should see.
type Error struct {
	Code    string // protocol.Err*
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the protocol code of err: its *Error code, or
// protocol.ErrInternal for anything else.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return protocol.ErrInternal
}

// Service implements the licensing logic over a store.DB.
type Service struct {
	db     *store.DB
	cfg    Config
	now    func() time.Time
	log    *slog.Logger
	signer atomic.Pointer[activeKey]
	// keyMu orders the writes of signer by refreshes and rotations;
	// keyCheckAt is when (Unix ns) signing next checks the active key.
	keyMu      sync.Mutex
	keyCheckAt atomic.Int64

	loginIP, loginAccount, activations, userCodeIP *limiters
	dummyHash                                      string // verified for unknown emails so timing does not reveal them
}

// New returns a Service, creating the first signing key if there is none.
func New(db *store.DB, cfg Config) (*Service, error) {
	if db == nil {
		return nil, errors.New("licensing: nil database")
	}
	if cfg.OfflineGrace <= 0 {
		cfg.OfflineGrace = 7 * 24 * time.Hour
	}
	if cfg.CheckinInterval <= 0 {
		cfg.CheckinInterval = 15 * time.Minute
	}
	if cfg.DeviceCodeTTL <= 0 {
		cfg.DeviceCodeTTL = 10 * time.Minute
	}
	if cfg.DevicePollInterval <= 0 {
		cfg.DevicePollInterval = 5 * time.Second
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.KeyRefresh <= 0 {
		cfg.KeyRefresh = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.LoginFailuresPerIP = cfg.LoginFailuresPerIP.orDefault(20, 20)
	cfg.LoginFailuresPerAccount = cfg.LoginFailuresPerAccount.orDefault(10, 10)
	cfg.ActivationsPerLicense = cfg.ActivationsPerLicense.orDefault(10, 20)
	cfg.UserCodeFailuresPerIP = cfg.UserCodeFailuresPerIP.orDefault(10, 10)
	cfg.PasswordHash = cfg.PasswordHash.orDefault()

	s := &Service{
		db:           db,
		cfg:          cfg,
		now:          cfg.Now,
		log:          cfg.Logger,
		loginIP:      newLimiters(cfg.LoginFailuresPerIP),
		loginAccount: newLimiters(cfg.LoginFailuresPerAccount),
		activations:  newLimiters(cfg.ActivationsPerLicense),
		userCodeIP:   newLimiters(cfg.UserCodeFailuresPerIP),
	}
	pw, err := randomToken(24)
	if err != nil {
		return nil, err
	}
	if s.dummyHash, err = hashPassword(pw, cfg.PasswordHash); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.loadOrCreateKey(ctx); err != nil {
		return nil, err
	}
	s.keyCheckAt.Store(s.now().Add(cfg.KeyRefresh).UnixNano())
	return s, nil
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// newID returns a random identifier with a type prefix, e.g. "dev_3f2a...".
func newID(prefix string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return prefix + "_" + hex.EncodeToString(b[:]), nil
}

// hashSecret is how bearer secrets (device credentials, session tokens,
// device codes) are stored: they are 256-bit random, so a fast hash suffices
// and keeps the check-in path cheap.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// mustJSON encodes audit details and similar plain values, which cannot fail
// to encode; "{}" keeps the column valid JSON if that ever changes.
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

func nullMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return store.Millis(t)
}

func (s *Service) checkinAfter() int { return int(s.cfg.CheckinInterval / time.Second) }
