package organizations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/internal/check"
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

func errNoMember() *fault.Error {
	return fault.Errorf(protocol.ErrNotFound, "no such member in this organization")
}

func errForbidden(format string, args ...any) *fault.Error {
	return fault.Errorf(adminapi.ErrForbidden, format, args...)
}

func (s *Service) addMember(ctx context.Context, tx *store.Tx, actor, orgID, accountID string, role authz.Role, now time.Time) (string, error) {
	id, err := insertMembership(ctx, tx, orgID, accountID, role, now)
	if err != nil {
		return "", err
	}
	if err := journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: "org.member.add", Target: accountID, Organization: orgID,
		Details: map[string]any{"role": string(role), "membership": id}}); err != nil {
		return "", err
	}
	return id, nil
}

// insertMembership adds the membership without its own journal row, for a
// change whose row tells of it (creating an organization, accepting).
func insertMembership(ctx context.Context, tx *store.Tx, orgID, accountID string, role authz.Role, now time.Time) (string, error) {
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
	return id, nil
}

// lockOrg locks the organization's row for the rest of tx, so changes to its
// owners are serialized (the last-owner rule cannot be raced), and reports
// whether it exists.
func lockOrg(ctx context.Context, tx *store.Tx, orgID string) error {
	var id string
	err := tx.QueryRow(ctx, "SELECT id FROM organizations WHERE id = ?"+tx.ForUpdate(), orgID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return errNotFound()
	}
	if err != nil {
		return fmt.Errorf("lock organization: %w", err)
	}
	return nil
}

func owners(ctx context.Context, tx *store.Tx, orgID string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM memberships WHERE organization_id = ? AND role = 'owner'", orgID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count owners: %w", err)
	}
	return n, nil
}

// AddMember adds the existing account with email to orgID with role. The
// email's domain must be approved for the organization; only an owner (or
// the operator) may add an owner.
func (s *Service) AddMember(ctx context.Context, p authz.Principal, orgID, email string, role authz.Role) (Member, error) {
	e, err := check.NormalizeEmail(email)
	if err != nil {
		return Member{}, err
	}
	if !role.Valid() {
		return Member{}, fault.Invalid("role must be owner, admin or member")
	}
	if role == authz.RoleOwner && !p.Operator && p.Role != authz.RoleOwner {
		return Member{}, errForbidden("only an owner can make someone an owner")
	}
	var m Member
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := lockOrg(ctx, tx, orgID); err != nil {
			return err
		}
		if err := requireApproved(ctx, tx, orgID, e); err != nil {
			return err
		}
		accID, err := accounts.IDByEmail(ctx, tx, e)
		if errors.Is(err, sql.ErrNoRows) {
			return fault.Errorf(protocol.ErrNotFound, "there is no account for %s; invite them instead", e)
		}
		if err != nil {
			return fmt.Errorf("look up account: %w", err)
		}
		if _, err := s.addMember(ctx, tx, p.Actor(), orgID, accID, role, s.now()); err != nil {
			return err
		}
		m, err = member(ctx, tx, orgID, accID)
		return err
	})
	return m, err
}

func member(ctx context.Context, tx *store.Tx, orgID, accountID string) (Member, error) {
	var (
		m       Member
		role    string
		created int64
	)
	err := tx.QueryRow(ctx, `SELECT m.id, m.organization_id, m.account_id, a.email, m.role, m.billing, m.created_at
		FROM memberships m JOIN accounts a ON a.id = m.account_id
		WHERE m.organization_id = ? AND m.account_id = ?`, orgID, accountID).
		Scan(&m.ID, &m.OrganizationID, &m.AccountID, &m.Email, &role, &m.Billing, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Member{}, errNoMember()
	}
	if err != nil {
		return Member{}, fmt.Errorf("get member: %w", err)
	}
	m.Role, m.Created = authz.Role(role), store.FromMillis(created)
	return m, nil
}

// Members lists orgID's members, oldest first.
func (s *Service) Members(ctx context.Context, orgID string, req paging.Request) (paging.Page[Member], error) {
	key, err := paging.Decode(req.Cursor, 2)
	if err != nil {
		return paging.Page[Member]{}, fault.Invalid("%v", err)
	}
	n := req.Size()
	q := `SELECT m.id, m.organization_id, m.account_id, a.email, m.role, m.billing, m.created_at
		FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.organization_id = ?`
	args := []any{orgID}
	if key != nil {
		after, err := cursorMillis(key[0])
		if err != nil {
			return paging.Page[Member]{}, err
		}
		q += " AND (m.created_at > ? OR (m.created_at = ? AND m.id > ?))"
		args = append(args, after, after, key[1])
	}
	q += " ORDER BY m.created_at, m.id LIMIT ?"
	args = append(args, n+1)
	var out []Member
	var total int64
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM memberships WHERE organization_id = ?", orgID).Scan(&total); err != nil {
			return fmt.Errorf("count members: %w", err)
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("list members: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				m       Member
				role    string
				created int64
			)
			if err := rows.Scan(&m.ID, &m.OrganizationID, &m.AccountID, &m.Email, &role, &m.Billing, &created); err != nil {
				return fmt.Errorf("list members: %w", err)
			}
			m.Role, m.Created = authz.Role(role), store.FromMillis(created)
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return paging.Page[Member]{}, err
	}
	return paging.Trim(out, n, total, func(m Member) []string { return []string{millisKey(m.Created), m.ID} }), nil
}

// Member returns accountID's membership in orgID.
func (s *Service) Member(ctx context.Context, orgID, accountID string) (Member, error) {
	var m Member
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		m, err = member(ctx, tx, orgID, accountID)
		return err
	})
	return m, err
}

// MemberChange is a change to a membership; nil fields stay as they are.
type MemberChange struct {
	Role    *authz.Role
	Billing *bool
}

// ChangeMember changes accountID's role or billing-contact flag in orgID.
// Only an owner (or the operator) may make someone an owner or change an
// owner's role; the last owner cannot be demoted.
func (s *Service) ChangeMember(ctx context.Context, p authz.Principal, orgID, accountID string, c MemberChange) (Member, error) {
	if c.Role != nil && !c.Role.Valid() {
		return Member{}, fault.Invalid("role must be owner, admin or member")
	}
	var m Member
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := lockOrg(ctx, tx, orgID); err != nil {
			return err
		}
		cur, err := member(ctx, tx, orgID, accountID)
		if err != nil {
			return err
		}
		now := s.now()
		if c.Role != nil && *c.Role != cur.Role {
			if (*c.Role == authz.RoleOwner || cur.Role == authz.RoleOwner) && !p.Operator && p.Role != authz.RoleOwner {
				return errForbidden("only an owner can change who is an owner")
			}
			if cur.Role == authz.RoleOwner {
				if n, err := owners(ctx, tx, orgID); err != nil {
					return err
				} else if n <= 1 {
					return fault.Errorf(adminapi.ErrLastOwner, "%s is the last owner of the organization; make someone else owner first", cur.Email)
				}
			}
			if _, err := tx.Exec(ctx, "UPDATE memberships SET role = ? WHERE organization_id = ? AND account_id = ?", string(*c.Role), orgID, accountID); err != nil {
				return fmt.Errorf("change role: %w", err)
			}
			if err := journal.Record(ctx, tx, journal.Entry{At: now, Actor: p.Actor(), Action: "org.member.role", Target: accountID, Organization: orgID,
				Details: map[string]any{"from": string(cur.Role), "to": string(*c.Role)}}); err != nil {
				return err
			}
		}
		if c.Billing != nil && *c.Billing != cur.Billing {
			if _, err := tx.Exec(ctx, "UPDATE memberships SET billing = ? WHERE organization_id = ? AND account_id = ?", *c.Billing, orgID, accountID); err != nil {
				return fmt.Errorf("change billing contact: %w", err)
			}
			if err := journal.Record(ctx, tx, journal.Entry{At: now, Actor: p.Actor(), Action: "org.member.billing", Target: accountID, Organization: orgID,
				Details: map[string]any{"billing": *c.Billing}}); err != nil {
				return err
			}
		}
		m, err = member(ctx, tx, orgID, accountID)
		return err
	})
	return m, err
}

// RemoveMember removes accountID from orgID. The OnMemberRemoved hook runs in
// the same transaction and releases what the member held (their seat
// assignments); the ids it released are returned. The member's account,
// sessions and devices stay: a computer activated with a released license
// learns it at its next check-in.
func (s *Service) RemoveMember(ctx context.Context, p authz.Principal, orgID, accountID string) ([]string, error) {
	var released []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := lockOrg(ctx, tx, orgID); err != nil {
			return err
		}
		cur, err := member(ctx, tx, orgID, accountID)
		if err != nil {
			return err
		}
		if cur.Role == authz.RoleOwner {
			if !p.Operator && p.Role != authz.RoleOwner {
				return errForbidden("only an owner can remove an owner")
			}
			if n, err := owners(ctx, tx, orgID); err != nil {
				return err
			} else if n <= 1 {
				return fault.Errorf(adminapi.ErrLastOwner, "%s is the last owner of the organization; make someone else owner first", cur.Email)
			}
		}
		if s.OnMemberRemoved != nil {
			if released, err = s.OnMemberRemoved(ctx, tx, orgID, accountID); err != nil {
				return fmt.Errorf("release the member's assignments: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM memberships WHERE organization_id = ? AND account_id = ?", orgID, accountID); err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
		details := map[string]any{"role": string(cur.Role)}
		if len(released) > 0 {
			details["released"] = released
		}
		return journal.Record(ctx, tx, journal.Entry{At: s.now(), Actor: p.Actor(), Action: "org.member.remove", Target: accountID, Organization: orgID, Details: details})
	})
	return released, err
}
