package licenses

import (
	"context"
	"time"

	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/store"
)

// Plan is what a license grants.
type Plan struct {
	Name        string
	Features    []string
	MaxProfiles int
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
	// OrganizationID and SubscriptionID name the organization and the
	// subscription whose seat assignment issued the license ("" for a
	// license issued directly).
	OrganizationID, SubscriptionID string
	// Revoked is when the organization withdrew the license (its seat was
	// released); zero = live. A revoked license is never deleted.
	Revoked time.Time
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
	// OrganizationID and SubscriptionID: the seat assignment that issues
	// the license (Insert), "" for none.
	OrganizationID, SubscriptionID string
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

// Service is the licenses domain over a store.DB.
type Service struct {
	db       *store.DB
	accounts *accounts.Service
	now      func() time.Time
}

// New returns a Service; accounts creates the demo account. A nil now
// means time.Now.
func New(db *store.DB, accts *accounts.Service, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, accounts: accts, now: now}
}

// ByKeyLocked returns the license with the normalized key, locked in tx for
// a seat claim, or sql.ErrNoRows.
func ByKeyLocked(ctx context.Context, tx *store.Tx, key string) (License, error) {
	return Scan(tx.QueryRow(ctx, "SELECT "+Cols+From+" WHERE l.license_key = ?"+Lock(tx), key))
}

// OwnedLocked returns the account's licenses, oldest first, locked in tx.
func OwnedLocked(ctx context.Context, tx *store.Tx, accountID string) ([]License, error) {
	rows, err := tx.Query(ctx, "SELECT "+Cols+From+" WHERE l.owner_account_id = ? ORDER BY l.created_at, l.id"+Lock(tx), accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var lics []License
	for rows.Next() {
		l, err := Scan(rows)
		if err != nil {
			return nil, err
		}
		lics = append(lics, l)
	}
	return lics, rows.Err()
}

func errf(code, format string, args ...any) *fault.Error { return fault.Errorf(code, format, args...) }

func invalid(format string, args ...any) *fault.Error { return fault.Invalid(format, args...) }
