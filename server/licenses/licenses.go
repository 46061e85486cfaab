// Package licenses owns licenses: their plans, seats, terms, keys and
// management mode, and the lookups other domains make of them (by key, by
// owner, locked for a seat claim).
package licenses

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/internal/column"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// Cols selects a License (Scan reads it); the query must alias licenses as l
// and join the owner account as a (From does).
const Cols = `l.id, l.license_key, l.owner_account_id, a.email, l.plan, l.features, l.max_profiles,
	l.seats, l.seats_used, l.term_start, l.term_end, l.subscription, l.suspended, l.management_mode, l.created_at,
	COALESCE(l.organization_id, ''), COALESCE(l.subscription_id, ''), l.revoked_at`

// From is the FROM clause Cols needs.
const From = ` FROM licenses l JOIN accounts a ON a.id = l.owner_account_id`

// Lock is appended to a license query inside a write transaction. On
// PostgreSQL it row-locks the licenses (not the accounts), which serializes
// activations of one license so that the device lookup that follows sees any
// device a concurrent activation just added.
func Lock(tx *store.Tx) string {
	if tx.Dialect() == store.Postgres {
		return " FOR UPDATE OF l"
	}
	return ""
}

type scanner interface{ Scan(...any) error }

// Scan reads a row of Cols.
func Scan(row scanner) (License, error) { return ScanWith(row) }

// ScanWith reads a row whose columns are first those of before, then Cols.
func ScanWith(row scanner, before ...any) (License, error) {
	var (
		l                       License
		features                string
		termStart, created      int64
		termEnd, revoked        sql.NullInt64
		subscription, suspended bool
	)
	dest := append(before, &l.ID, &l.Key, &l.OwnerAccountID, &l.OwnerEmail, &l.Plan.Name, &features, &l.Plan.MaxProfiles,
		&l.Seats, &l.SeatsUsed, &termStart, &termEnd, &subscription, &suspended, &l.ManagementMode, &created,
		&l.OrganizationID, &l.SubscriptionID, &revoked)
	if err := row.Scan(dest...); err != nil {
		return License{}, err
	}
	if revoked.Valid {
		l.Revoked = store.FromMillis(revoked.Int64)
	}
	if err := json.Unmarshal([]byte(features), &l.Plan.Features); err != nil {
		return License{}, fmt.Errorf("license %s: features: %w", l.ID, err)
	}
	l.Key = licensekey.Format(l.Key)
	l.TermStart = store.FromMillis(termStart)
	if termEnd.Valid {
		l.TermEnd = store.FromMillis(termEnd.Int64)
	}
	l.Subscription, l.Suspended = subscription, suspended
	l.Created = store.FromMillis(created)
	return l, nil
}

// ShortKey names a license in messages without repeating the whole key.
func ShortKey(formatted string) string {
	if i := strings.IndexByte(formatted, '-'); i > 0 {
		return formatted[:i] + "-…"
	}
	return formatted
}

// Usable reports why a license cannot take activations or check-ins now.
func Usable(l License, now time.Time) error {
	if !l.Revoked.IsZero() {
		return ErrRevoked(l)
	}
	if l.Suspended {
		return errf(protocol.ErrLicenseSuspended, "license %s is suspended; contact your license administrator", ShortKey(l.Key))
	}
	if !l.TermEnd.IsZero() && !now.Before(l.TermEnd) {
		return errf(protocol.ErrLicenseExpired, "license %s expired on %s; renew it to keep using the product", ShortKey(l.Key), l.TermEnd.Format("2 January 2006"))
	}
	if now.Before(l.TermStart) {
		return errf(protocol.ErrLicenseExpired, "license %s is not valid before %s", ShortKey(l.Key), l.TermStart.Format("2 January 2006"))
	}
	return nil
}

// ErrRevoked is the error of a license its organization withdrew (a
// released seat assignment): its computers stop at their next check-in.
func ErrRevoked(l License) *fault.Error {
	return errf(protocol.ErrLicenseRevoked, "license %s was withdrawn by its organization on %s; ask your administrator for a license",
		ShortKey(l.Key), l.Revoked.Format("2 January 2006"))
}

// CreateLicense issues a license with a new key to an existing account.
func (s *Service) CreateLicense(ctx context.Context, spec LicenseSpec) (License, error) {
	email, err := check.NormalizeEmail(spec.OwnerEmail)
	if err != nil {
		return License{}, err
	}
	var lic License
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		ownerID, err := accounts.IDByEmail(ctx, tx, email)
		if errors.Is(err, sql.ErrNoRows) {
			return errf(protocol.ErrNotFound, "there is no account for %s; create the account first", email)
		}
		if err != nil {
			return fmt.Errorf("look up license owner: %w", err)
		}
		lic, err = s.insertLicense(ctx, tx, ownerID, email, spec, "admin")
		return err
	})
	return lic, err
}

func (s *Service) insertLicense(ctx context.Context, tx *store.Tx, ownerID, ownerEmail string, spec LicenseSpec, actor string) (License, error) {
	now := s.now()
	lic, err := Insert(ctx, tx, now, ownerID, spec)
	if err != nil {
		return License{}, err
	}
	detail := map[string]any{"owner": ownerEmail, "plan": spec.Plan.Name, "seats": spec.Seats, "management_mode": spec.ManagementMode}
	if err := journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: "license.create", Target: lic.ID, Details: detail}); err != nil {
		return License{}, err
	}
	return lic, nil
}

// Insert issues, in tx, a license with a new key to the existing account
// ownerID, without a journal row: the caller's row tells of it (a seat
// assignment; CreateLicense writes license.create).
func Insert(ctx context.Context, tx *store.Tx, now time.Time, ownerID string, spec LicenseSpec) (License, error) {
	if err := checkPlan(spec.Plan); err != nil {
		return License{}, err
	}
	if spec.Seats < 1 || spec.Seats > MaxSeats {
		return License{}, invalid("seats must be between 1 and %d", MaxSeats)
	}
	if err := checkManagementMode(spec.ManagementMode); err != nil {
		return License{}, err
	}
	start := spec.TermStart
	if start.IsZero() {
		start = now
	}
	if !spec.TermEnd.IsZero() && !spec.TermEnd.After(start) {
		return License{}, invalid("the term must end after it starts")
	}
	features := spec.Plan.Features
	if features == nil {
		features = []string{}
	}
	id, err := ids.New("lic")
	if err != nil {
		return License{}, err
	}
	for attempt := 0; ; attempt++ {
		key, err := licensekey.Generate()
		if err != nil {
			return License{}, err
		}
		norm := strings.ReplaceAll(key, "-", "")
		_, err = tx.Exec(ctx, `INSERT INTO licenses (id, license_key, owner_account_id, plan, features, max_profiles, seats, seats_used,
			term_start, term_end, subscription, suspended, management_mode, created_at, organization_id, subscription_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, norm, ownerID, spec.Plan.Name, column.JSON(features), spec.Plan.MaxProfiles, spec.Seats,
			store.Millis(start), column.NullMillis(spec.TermEnd), spec.Subscription, false, spec.ManagementMode, store.Millis(now),
			nullString(spec.OrganizationID), nullString(spec.SubscriptionID))
		// A key collision needs 2^60 keys to become likely; retrying once is
		// for correctness, not expectation. On PostgreSQL a failed statement
		// aborts the transaction, so a retry there cannot succeed anyway.
		if store.IsUniqueViolation(err) && attempt < 2 && tx.Dialect() == store.SQLite {
			continue
		}
		if err != nil {
			return License{}, fmt.Errorf("create license: %w", err)
		}
		return Scan(tx.QueryRow(ctx, "SELECT "+Cols+From+" WHERE l.id = ?", id))
	}
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ListLicenses lists an account's licenses, oldest first; "" lists all.
func (s *Service) ListLicenses(ctx context.Context, ownerAccountID string) ([]License, error) {
	q := "SELECT " + Cols + From
	var args []any
	if ownerAccountID != "" {
		q += " WHERE l.owner_account_id = ?"
		args = append(args, ownerAccountID)
	}
	rows, err := s.db.Query(ctx, q+" ORDER BY l.created_at, l.id", args...)
	if err != nil {
		return nil, fmt.Errorf("list licenses: %w", err)
	}
	defer rows.Close()
	out := []License{}
	for rows.Next() {
		l, err := Scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list licenses: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list licenses: %w", err)
	}
	return out, nil
}

// Demo is the demo account created by SeedDemo.
type Demo struct {
	Email, Password, LicenseKey string
	Seats                       int
}

// Demo account data.
const (
	demoEmail   = "demo@entitle.local"
	demoSetting = "demo"
)

type demoRecord struct {
	Password  string `json:"password"`
	LicenseID string `json:"license_id"`
}

// SeedDemo creates the demo account and its 3-seat "Pro" license once, and
// returns the same data on every later call. The demo password is kept in
// the settings table so it can be printed again; it guards only demo data.
func (s *Service) SeedDemo(ctx context.Context) (Demo, error) {
	if d, ok, err := s.loadDemo(ctx); err != nil || ok {
		return d, err
	}
	pw, err := ids.Token(12)
	if err != nil {
		return Demo{}, err
	}
	hash, err := s.accounts.HashPassword(ctx, pw)
	if err != nil {
		return Demo{}, err
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		accountID, err := accounts.IDByEmail(ctx, tx, demoEmail)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			acc, err := s.accounts.InsertAccount(ctx, tx, demoEmail, hash, "system")
			if err != nil {
				return err
			}
			accountID = acc.ID
		case err != nil:
			return fmt.Errorf("look up demo account: %w", err)
		default:
			// The account exists without a record (made by hand): give it
			// the new password so what is printed works.
			if err := accounts.SetPasswordHash(ctx, tx, accountID, hash); err != nil {
				return err
			}
		}
		lic, err := s.insertLicense(ctx, tx, accountID, demoEmail, LicenseSpec{
			Plan:      Plan{Name: "Pro", Features: []string{"sign", "timestamp"}, MaxProfiles: 5},
			Seats:     3,
			TermStart: now,
			TermEnd:   now.AddDate(1, 0, 0),
		}, "system")
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO settings (name, value) VALUES (?, ?)", demoSetting,
			column.JSON(demoRecord{Password: pw, LicenseID: lic.ID}))
		return err
	})
	if err != nil && store.IsUniqueViolation(err) {
		// Another server seeded concurrently; its data wins.
		if d, ok, lerr := s.loadDemo(ctx); lerr == nil && ok {
			return d, nil
		}
	}
	if err != nil {
		return Demo{}, fmt.Errorf("seed demo data: %w", err)
	}
	d, _, err := s.loadDemo(ctx)
	return d, err
}

func (s *Service) loadDemo(ctx context.Context) (Demo, bool, error) {
	var raw string
	err := s.db.QueryRow(ctx, "SELECT value FROM settings WHERE name = ?", demoSetting).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return Demo{}, false, nil
	}
	if err != nil {
		return Demo{}, false, fmt.Errorf("load demo data: %w", err)
	}
	var rec demoRecord
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		return Demo{}, false, fmt.Errorf("load demo data: %w", err)
	}
	lic, err := Scan(s.db.QueryRow(ctx, "SELECT "+Cols+From+" WHERE l.id = ?", rec.LicenseID))
	if err != nil {
		return Demo{}, false, fmt.Errorf("load demo license: %w", err)
	}
	return Demo{Email: lic.OwnerEmail, Password: rec.Password, LicenseKey: lic.Key, Seats: lic.Seats}, true, nil
}
