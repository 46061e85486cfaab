package organizations

import (
	"context"
	"fmt"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// Membership is an organization seen by one of its members.
type Membership struct {
	Organization
	Role    authz.Role
	Billing bool
}

// ListFor lists the organizations accountID is a member of, oldest first;
// an empty accountID lists every organization (the operator's view, with
// RoleNone).
func (s *Service) ListFor(ctx context.Context, accountID string, req paging.Request) (paging.Page[Membership], error) {
	key, err := paging.Decode(req.Cursor, 2)
	if err != nil {
		return paging.Page[Membership]{}, fault.Invalid("%v", err)
	}
	n := req.Size()
	var (
		q, count string
		args     []any
	)
	if accountID == "" {
		q = "SELECT o.id, o.name, o.default_locale, o.created_at, '', " + falseSQL + " FROM organizations o WHERE 1 = 1"
		count = "SELECT COUNT(*) FROM organizations"
	} else {
		q = `SELECT o.id, o.name, o.default_locale, o.created_at, m.role, m.billing
			FROM organizations o JOIN memberships m ON m.organization_id = o.id WHERE m.account_id = ?`
		count = "SELECT COUNT(*) FROM memberships WHERE account_id = ?"
		args = append(args, accountID)
	}
	countArgs := append([]any(nil), args...)
	if key != nil {
		after, err := cursorMillis(key[0])
		if err != nil {
			return paging.Page[Membership]{}, err
		}
		q += " AND (o.created_at > ? OR (o.created_at = ? AND o.id > ?))"
		args = append(args, after, after, key[1])
	}
	q += " ORDER BY o.created_at, o.id LIMIT ?"
	args = append(args, n+1)
	var (
		out   []Membership
		total int64
	)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, count, countArgs...).Scan(&total); err != nil {
			return fmt.Errorf("count organizations: %w", err)
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("list organizations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				m       Membership
				role    string
				created int64
			)
			if err := rows.Scan(&m.ID, &m.Name, &m.DefaultLocale, &created, &role, &m.Billing); err != nil {
				return fmt.Errorf("list organizations: %w", err)
			}
			m.Role, m.Created = authz.Role(role), store.FromMillis(created)
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return paging.Page[Membership]{}, err
	}
	return paging.Trim(out, n, total, func(m Membership) []string { return []string{millisKey(m.Created), m.ID} }), nil
}

// falseSQL is a boolean false both dialects scan into a Go bool.
const falseSQL = "1 = 0"

// Change is a change to an organization; nil fields stay as they are.
type Change struct {
	Name          *string
	DefaultLocale *string
}

const maxLocale = 35

// Update renames an organization or changes its default language (the
// language of mails sent for it when the sender's is unknown).
func (s *Service) Update(ctx context.Context, p authz.Principal, orgID string, c Change) (Organization, error) {
	if c.Name != nil {
		if err := check.Text("organization name", *c.Name, maxName, true); err != nil {
			return Organization{}, err
		}
	}
	if c.DefaultLocale != nil {
		if err := check.Text("default locale", *c.DefaultLocale, maxLocale, true); err != nil {
			return Organization{}, err
		}
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := lockOrg(ctx, tx, orgID); err != nil {
			return err
		}
		details := map[string]any{}
		if c.Name != nil {
			if _, err := tx.Exec(ctx, "UPDATE organizations SET name = ? WHERE id = ?", *c.Name, orgID); err != nil {
				return fmt.Errorf("rename organization: %w", err)
			}
			details["name"] = *c.Name
		}
		if c.DefaultLocale != nil {
			if _, err := tx.Exec(ctx, "UPDATE organizations SET default_locale = ? WHERE id = ?", *c.DefaultLocale, orgID); err != nil {
				return fmt.Errorf("set default locale: %w", err)
			}
			details["default_locale"] = *c.DefaultLocale
		}
		if len(details) == 0 {
			return nil
		}
		return journal.Record(ctx, tx, journal.Entry{At: s.now(), Actor: p.Actor(), Action: "org.update", Target: orgID, Organization: orgID, Details: details})
	})
	if err != nil {
		return Organization{}, err
	}
	return s.Get(ctx, orgID)
}
