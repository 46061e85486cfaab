// Package organizations owns organizations and their members (roles owner,
// admin, member and a billing-contact flag), invitations by email (a hashed
// single-use token with an expiry), the email domains approved for an
// organization (proved by a DNS TXT record or approved by the operator) and the
// operator's bearer tokens. Every query is scoped by organization id; every
// change writes its journal row in the same transaction.
package organizations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// Resolver looks up DNS TXT records (net.Resolver in production).
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// MemberRemovedFunc is called in the transaction that removes accountID from
// orgID, so another domain (the seat assignments) can release what the member
// held; it returns the ids of what it released.
type MemberRemovedFunc func(ctx context.Context, tx *store.Tx, orgID, accountID string) (released []string, err error)

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	Now    func() time.Time // default time.Now
	Logger *slog.Logger
	// Resolver looks up domain challenges; default net.DefaultResolver.
	Resolver Resolver
	// PublicURL is the server's public base URL; invitation links are built
	// from it.
	PublicURL string
	// InvitationTTL is how long an invitation can be accepted. Default 7 days.
	InvitationTTL time.Duration
	// DomainRecheck is how often verified domains are looked up again by
	// the sweep. Default 24 h.
	DomainRecheck time.Duration
	// DomainGrace is how long a verified domain's record may be missing
	// before the domain becomes unverified. Default 72 h.
	DomainGrace time.Duration
}

// Service is the organizations domain over a store.DB.
type Service struct {
	db       *store.DB
	accounts *accounts.Service
	cfg      Config
	now      func() time.Time
	log      *slog.Logger

	// OnMemberRemoved, when set at wiring, runs in the transaction that
	// removes a member.
	OnMemberRemoved MemberRemovedFunc
}

// New returns a Service.
func New(db *store.DB, accts *accounts.Service, cfg Config) (*Service, error) {
	if db == nil || accts == nil {
		return nil, errors.New("organizations: nil database or accounts")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.InvitationTTL <= 0 {
		cfg.InvitationTTL = 7 * 24 * time.Hour
	}
	if cfg.DomainRecheck <= 0 {
		cfg.DomainRecheck = 24 * time.Hour
	}
	if cfg.DomainGrace <= 0 {
		cfg.DomainGrace = 72 * time.Hour
	}
	return &Service{db: db, accounts: accts, cfg: cfg, now: cfg.Now, log: cfg.Logger}, nil
}

// Organization is an organization.
type Organization struct {
	ID, Name      string
	DefaultLocale string
	Created       time.Time
}

const maxName = 200

func errNotFound() *fault.Error {
	return fault.Errorf(protocol.ErrNotFound, "no such organization")
}

// Create makes an organization whose first owner is ownerAccountID ("" for
// an organization the operator creates without an owner yet).
func (s *Service) Create(ctx context.Context, actor, name, ownerAccountID string) (Organization, error) {
	if err := check.Text("organization name", name, maxName, true); err != nil {
		return Organization{}, err
	}
	var org Organization
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		org, err = s.create(ctx, tx, actor, name, ownerAccountID)
		return err
	})
	return org, err
}

func (s *Service) create(ctx context.Context, tx *store.Tx, actor, name, owner string) (Organization, error) {
	id, err := ids.New("org")
	if err != nil {
		return Organization{}, err
	}
	now := s.now()
	if _, err := tx.Exec(ctx, "INSERT INTO organizations (id, name, default_locale, created_at) VALUES (?, ?, ?, ?)",
		id, name, "en", store.Millis(now)); err != nil {
		return Organization{}, fmt.Errorf("create organization: %w", err)
	}
	details := map[string]any{"name": name}
	if owner != "" {
		// The owner's membership is part of the creation: one journal row.
		mem, err := insertMembership(ctx, tx, id, owner, authz.RoleOwner, now)
		if err != nil {
			return Organization{}, err
		}
		details["owner"], details["membership"] = owner, mem
	}
	if err := journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: "org.create", Target: id, Organization: id,
		Details: details}); err != nil {
		return Organization{}, err
	}
	return Organization{ID: id, Name: name, DefaultLocale: "en", Created: store.FromMillis(store.Millis(now))}, nil
}

// Get returns an organization.
func (s *Service) Get(ctx context.Context, id string) (Organization, error) {
	var (
		o       Organization
		created int64
	)
	err := s.db.QueryRow(ctx, "SELECT id, name, default_locale, created_at FROM organizations WHERE id = ?", id).
		Scan(&o.ID, &o.Name, &o.DefaultLocale, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Organization{}, errNotFound()
	}
	if err != nil {
		return Organization{}, fmt.Errorf("get organization: %w", err)
	}
	o.Created = store.FromMillis(created)
	return o, nil
}

// Role returns accountID's role in orgID within tx, or authz.RoleNone when
// the account is not a member (or the organization does not exist).
func Role(ctx context.Context, tx *store.Tx, orgID, accountID string) (authz.Role, error) {
	var r string
	err := tx.QueryRow(ctx, "SELECT role FROM memberships WHERE organization_id = ? AND account_id = ?", orgID, accountID).Scan(&r)
	if errors.Is(err, sql.ErrNoRows) {
		return authz.RoleNone, nil
	}
	if err != nil {
		return authz.RoleNone, fmt.Errorf("look up membership: %w", err)
	}
	return authz.Role(r), nil
}

// Role returns accountID's role in orgID, or authz.RoleNone.
func (s *Service) Role(ctx context.Context, orgID, accountID string) (authz.Role, error) {
	var r string
	err := s.db.QueryRow(ctx, "SELECT role FROM memberships WHERE organization_id = ? AND account_id = ?", orgID, accountID).Scan(&r)
	if errors.Is(err, sql.ErrNoRows) {
		return authz.RoleNone, nil
	}
	if err != nil {
		return authz.RoleNone, fmt.Errorf("look up membership: %w", err)
	}
	return authz.Role(r), nil
}

// AccountIDByEmail returns the id of the account with email, or not_found.
func (s *Service) AccountIDByEmail(ctx context.Context, email string) (string, error) {
	var id string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = accountByEmail(ctx, tx, email)
		return err
	})
	return id, err
}

// accountByEmail finds the account of email in tx, or not_found.
func accountByEmail(ctx context.Context, tx *store.Tx, email string) (string, error) {
	e, err := check.NormalizeEmail(email)
	if err != nil {
		return "", err
	}
	id, err := accounts.IDByEmail(ctx, tx, e)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fault.Errorf(protocol.ErrNotFound, "there is no account for %s", e)
	}
	if err != nil {
		return "", fmt.Errorf("look up account: %w", err)
	}
	return id, nil
}
