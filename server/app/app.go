// Package app wires the licensing server's domains together: it builds each
// domain service with what it depends on (database, clock, logger, lease
// signer, the other domains it calls) for the HTTP API, the web pages, the
// entitle-server commands and tests. It holds no rules of its own: callers
// use the domain they need (a.Accounts.Login, a.Devices.Checkin, ...).
//
// Every domain returns *fault.Error for errors a client should see, carrying
// a protocol.Err* code; any other error is internal and must be reported to
// clients as protocol.ErrInternal without its text.
//
// Rate limits that must hold across server instances (sign-in failures per IP
// and per account, device sign-ins started and unknown user codes per IP) are
// counted in the database when Config.RateLimits says so, which is the
// default on PostgreSQL (stateless instances behind a load balancer share
// them); on SQLite (one instance) they stay in memory. The others
// (activations per license, password resets) are kept in memory per process.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/commands"
	"github.com/entitle/entitle/server/deviceauth"
	"github.com/entitle/entitle/server/devices"
	"github.com/entitle/entitle/server/internal/ratelimit"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/orders"
	"github.com/entitle/entitle/server/organizations"
	"github.com/entitle/entitle/server/plans"
	"github.com/entitle/entitle/server/push"
	"github.com/entitle/entitle/server/signing"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/subscriptions"
	"github.com/entitle/entitle/server/usage"
	"github.com/entitle/entitle/server/workspaces"
)

// Config configures the domains. Zero fields take the documented defaults.
type Config struct {
	Issuer string // lease "iss" (the server's public base URL)
	// PublicURL is the base URL of the links the server mails (invitations,
	// assignments); default Issuer. serve sets it to the address it listens
	// on when no --public-url is given, while the lease issuer stays stable.
	PublicURL          string
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
	LoginFailuresPerIP      ratelimit.Limit
	LoginFailuresPerAccount ratelimit.Limit
	// ActivationsPerLicense bounds activation churn on one license
	// (re-activations included). Default 10 a minute, burst 20.
	ActivationsPerLicense ratelimit.Limit
	// UserCodeFailuresPerIP bounds lookups of device sign-in user codes
	// that match no sign-in, the cost of guessing codes. Default 10 a
	// minute, burst 10 per IP.
	UserCodeFailuresPerIP ratelimit.Limit
	// DeviceAuthorizePerIP bounds the browser sign-ins one client IP may
	// start. Default 10 a minute, burst 20.
	DeviceAuthorizePerIP ratelimit.Limit
	// RateLimits is where the sign-in and device sign-in limits are
	// counted: RateLimitsAuto (""), the database on PostgreSQL and memory
	// on SQLite; RateLimitsMemory or RateLimitsDatabase force one.
	RateLimits string
	// MaxPendingDeviceAuths bounds the browser sign-ins waiting at once,
	// from everyone. Default 10,000.
	MaxPendingDeviceAuths int
	// PasswordHash sets the argon2id cost for new password hashes. Zero
	// fields take OWASP's recommendation (19 MiB, 2 passes, 1 thread).
	PasswordHash accounts.Argon2Params
	// PasswordWork bounds concurrent password hashing (default 2×GOMAXPROCS
	// running, 256 waiting up to 10 s; beyond it "busy", HTTP 503).
	PasswordWork accounts.HashLimit
	// KeyRefresh is how often the lease signer checks which signing key is
	// active, to follow a rotation made by another process or server
	// instance without a restart. Default 30 s.
	KeyRefresh time.Duration
	// Resolver looks up the DNS TXT records that prove an organization's
	// email domain; default net.DefaultResolver.
	Resolver organizations.Resolver
	// Notify replaces the push hub as the way a queued command reaches a
	// connected computer (tests); nil: the hub, App.Push.
	Notify commands.Notifier
	// Seller is who issues the invoices of orders (default name "Entitle").
	Seller orders.Seller
}

// Where rate limits are counted (Config.RateLimits).
const (
	RateLimitsAuto     = ""
	RateLimitsMemory   = "memory"
	RateLimitsDatabase = "database"
)

// App is the set of domain services over one database.
type App struct {
	Accounts   *accounts.Service
	Licenses   *licenses.Service
	Devices    *devices.Service
	DeviceAuth *deviceauth.Service
	Signing    *signing.Service
	// Organizations owns organizations, members, invitations, approved
	// domains and operator tokens.
	Organizations *organizations.Service
	Commands      *commands.Service
	Push          *push.Hub // Background runs it
	// Journal reads the journal (verify, list, export).
	Journal    *journal.Reader
	Workspaces *workspaces.Service
	// Usage records seat use daily and sums up an organization for the
	// console's overview.
	Usage *usage.Service
	// Subscriptions owns organizations' seat pools and their assignment
	// to members.
	Subscriptions *subscriptions.Service
	// Plans is the operator's catalog; Orders the carts, invoices,
	// payments and renewal orders.
	Plans  *plans.Service
	Orders *orders.Service

	now func() time.Time
	// sharedLimits is the database the rate limits are counted in (nil:
	// in memory); Background sweeps its expired counters.
	sharedLimits *store.DB
}

// New builds the domains, creating the first signing key if there is none.
func New(db *store.DB, cfg Config) (*App, error) {
	if db == nil {
		return nil, errors.New("app: nil database")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var limits ratelimit.Sources
	switch cfg.RateLimits {
	case RateLimitsAuto:
		if db.Dialect() == store.Postgres {
			limits.DB = db
		}
	case RateLimitsDatabase:
		limits.DB = db
	case RateLimitsMemory:
	default:
		return nil, fmt.Errorf("app: rate limits %q: want %q or %q", cfg.RateLimits, RateLimitsMemory, RateLimitsDatabase)
	}
	limits.Logger = cfg.Logger
	accts, err := accounts.New(db, accounts.Config{
		SessionTTL: cfg.SessionTTL, Now: cfg.Now, Logger: cfg.Logger, PasswordHash: cfg.PasswordHash, PasswordWork: cfg.PasswordWork,
		LoginFailuresPerIP: cfg.LoginFailuresPerIP, LoginFailuresPerAccount: cfg.LoginFailuresPerAccount, Limits: limits,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	signer, err := signing.New(ctx, db, signing.Config{
		Issuer: cfg.Issuer, OfflineGrace: cfg.OfflineGrace, CheckinInterval: cfg.CheckinInterval,
		KeyRefresh: cfg.KeyRefresh, Now: cfg.Now, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	// Commands free seats through devices, and devices exchange commands
	// in check-ins: the release is bound once devices exists.
	var devs *devices.Service
	hub := push.New(db, cfg.Logger)
	var notify commands.Notifier = hub
	if cfg.Notify != nil {
		notify = cfg.Notify
	}
	cmds, err := commands.New(db, commands.Config{Now: cfg.Now, Logger: cfg.Logger, Notify: notify,
		Release: func(ctx context.Context, tx *store.Tx, deviceID, actor, action string, details map[string]any) error {
			return devs.ReleaseIn(ctx, tx, deviceID, actor, action, details)
		}})
	if err != nil {
		return nil, err
	}
	release := func(ctx context.Context, tx *store.Tx, deviceID, actor, action string, details map[string]any) error {
		return devs.ReleaseIn(ctx, tx, deviceID, actor, action, details)
	}
	spaces, err := workspaces.New(db, workspaces.Config{Release: release, Now: cfg.Now, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	devs, err = devices.New(db, accts, signer, devices.Config{
		ActivationsPerLicense: cfg.ActivationsPerLicense, Now: cfg.Now, Logger: cfg.Logger, Commands: cmds, Enrollment: spaces,
	})
	if err != nil {
		return nil, err
	}
	auth, err := deviceauth.New(db, devs, deviceauth.Config{
		DeviceCodeTTL: cfg.DeviceCodeTTL, DevicePollInterval: cfg.DevicePollInterval,
		UserCodeFailuresPerIP: cfg.UserCodeFailuresPerIP, Now: cfg.Now, Logger: cfg.Logger,
		AuthorizePerIP: cfg.DeviceAuthorizePerIP, MaxPending: cfg.MaxPendingDeviceAuths, Limits: limits,
	})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	orgs, err := organizations.New(db, accts, organizations.Config{
		Now: cfg.Now, Logger: cfg.Logger, Resolver: cfg.Resolver, PublicURL: cfg.publicURL(),
	})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	use, err := usage.New(db, usage.Config{
		Now: cfg.Now, Logger: cfg.Logger, CheckinInterval: time.Duration(signer.CheckinAfter()) * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	subs, err := subscriptions.New(db, subscriptions.Config{Now: cfg.Now, Logger: cfg.Logger, Release: release, Notify: notify,
		InstallURL: strings.TrimRight(cfg.publicURL(), "/") + "/account"})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	// A member removed from an organization gives back the seats they
	// held, in the removing transaction.
	orgs.OnMemberRemoved = subs.MemberRemoved
	catalog, err := plans.New(db, cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	ords, err := orders.New(db, orders.Config{Now: cfg.Now, Logger: cfg.Logger, Seller: cfg.Seller})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return &App{
		Usage:         use,
		Subscriptions: subs,
		Plans:         catalog,
		Orders:        ords,
		Organizations: orgs,
		Accounts:      accts,
		Licenses:      licenses.New(db, accts, cfg.Now),
		Devices:       devs,
		DeviceAuth:    auth,
		Signing:       signer,
		Commands:      cmds,
		Push:          hub,
		Journal:       journal.NewReader(db),
		Workspaces:    spaces,
		now:           cfg.Now,
		sharedLimits:  limits.DB,
	}, nil
}

func (c Config) publicURL() string {
	if c.PublicURL != "" {
		return c.PublicURL
	}
	return c.Issuer
}
