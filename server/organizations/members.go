package organizations

import (
	"context"
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// Member is an account's membership in an organization.
type Member struct {
	ID             string
	OrganizationID string
	AccountID      string
	Email          string
	Role           authz.Role
	Billing        bool
	Created        time.Time
}

func (s *Service) addMember(ctx context.Context, tx *store.Tx, actor, orgID, accountID string, role authz.Role, now time.Time) (string, error) {
	if !role.Valid() {
		return "", fault.Invalid("role must be owner, admin or member")
	}
	id, err := ids.New("mem")
	if err != nil {
		return "", err
	}
	_, err = tx.Exec(ctx, "INSERT INTO memberships (id, organization_id, account_id, role, billing, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		id, orgID, accountID, string(role), false, store.Millis(now))
	if store.IsUniqueViolation(err) {
		return "", fault.Errorf(adminapi.ErrAlreadyMember, "this account is already a member of the organization")
	}
	if err != nil {
		return "", fmt.Errorf("add member: %w", err)
	}
	if err := journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: "org.member.add", Target: accountID, Organization: orgID,
		Details: map[string]any{"role": string(role), "membership": id}}); err != nil {
		return "", err
	}
	return id, nil
}
