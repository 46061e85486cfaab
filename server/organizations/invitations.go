package organizations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
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
	"github.com/entitle/entitle/server/mail"
	"github.com/entitle/entitle/server/store"
)

// AcceptPath is the web page an invitation's link opens (its token in the
// query); the page posts to POST /v1/invitations/accept.
const AcceptPath = "/invitations/accept"

// Invitation is an invitation to join an organization.
type Invitation struct {
	ID, OrganizationID string
	Email              string
	Role               authz.Role
	InvitedBy          string
	Locale             string
	Created, Expires   time.Time
	AcceptedAt         time.Time // zero until accepted
	AcceptedAccountID  string
	RevokedAt          time.Time // zero unless revoked
}

// State is "pending", "accepted", "revoked" or "expired" at now.
func (i Invitation) State(now time.Time) string {
	switch {
	case !i.AcceptedAt.IsZero():
		return "accepted"
	case !i.RevokedAt.IsZero():
		return "revoked"
	case !now.Before(i.Expires):
		return "expired"
	}
	return "pending"
}

const invitationCols = "id, organization_id, email, role, invited_by, locale, created_at, expires_at, accepted_at, accepted_account_id, revoked_at"

func scanInvitation(sc interface{ Scan(...any) error }) (Invitation, error) {
	var (
		i                 Invitation
		role              string
		created, expires  int64
		accepted, revoked sql.NullInt64
		acceptedBy        sql.NullString
	)
	if err := sc.Scan(&i.ID, &i.OrganizationID, &i.Email, &role, &i.InvitedBy, &i.Locale, &created, &expires, &accepted, &acceptedBy, &revoked); err != nil {
		return Invitation{}, err
	}
	i.Role, i.Created, i.Expires = authz.Role(role), store.FromMillis(created), store.FromMillis(expires)
	i.AcceptedAt, i.RevokedAt, i.AcceptedAccountID = nullTime(accepted), nullTime(revoked), acceptedBy.String
	return i, nil
}

func errNoInvitation() *fault.Error {
	return fault.Errorf(protocol.ErrNotFound, "no such invitation in this organization")
}

// Invite invites email to orgID with role: the email's domain must be
// approved for the organization, and only an owner (or the operator) may
// invite an owner. The invitation mail is enqueued in the same transaction,
// in locale (the inviter's language; "" takes the organization's default).
// The token is returned once; only its hash is stored.
func (s *Service) Invite(ctx context.Context, p authz.Principal, orgID, email string, role authz.Role, locale string) (Invitation, string, error) {
	e, err := check.NormalizeEmail(email)
	if err != nil {
		return Invitation{}, "", err
	}
	if !role.Valid() {
		return Invitation{}, "", fault.Invalid("role must be owner, admin or member")
	}
	if role == authz.RoleOwner && !p.Operator && p.Role != authz.RoleOwner {
		return Invitation{}, "", errForbidden("only an owner can invite an owner")
	}
	if err := check.Text("locale", locale, maxLocale, false); err != nil {
		return Invitation{}, "", err
	}
	id, err := ids.New("inv")
	if err != nil {
		return Invitation{}, "", err
	}
	token, err := ids.Token(32)
	if err != nil {
		return Invitation{}, "", err
	}
	var inv Invitation
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var orgName, orgLocale string
		if err := tx.QueryRow(ctx, "SELECT name, default_locale FROM organizations WHERE id = ?", orgID).Scan(&orgName, &orgLocale); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errNotFound()
			}
			return fmt.Errorf("get organization: %w", err)
		}
		if err := requireApproved(ctx, tx, orgID, e); err != nil {
			return err
		}
		if locale == "" {
			locale = orgLocale
		}
		inviter := "the operator"
		if p.AccountID != "" {
			if inviter, err = accounts.EmailOf(ctx, tx, p.AccountID); err != nil {
				return err
			}
		}
		now := s.now()
		exp := now.Add(s.cfg.InvitationTTL)
		if _, err := tx.Exec(ctx, `INSERT INTO invitations (id, organization_id, email, role, token_hash, invited_by, locale, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, orgID, e, string(role), ids.HashSecret(token), p.AccountID, locale, store.Millis(now), store.Millis(exp)); err != nil {
			return fmt.Errorf("create invitation: %w", err)
		}
		if err := journal.Record(ctx, tx, journal.Entry{At: now, Actor: p.Actor(), Action: "org.invitation.create", Target: id, Organization: orgID,
			Details: map[string]any{"email": e, "role": string(role)}}); err != nil {
			return err
		}
		if _, err := mail.Enqueue(ctx, tx, now, mail.Message{
			Key: "invitation:" + id, Kind: mail.KindInvitation, To: e, Locale: locale, Organization: orgID,
			Args: map[string]string{
				"organization": orgName, "inviter": inviter, "role": string(role),
				"accept_url": s.acceptURL(token), "expires": exp.UTC().Format(time.RFC3339),
			},
		}); err != nil {
			return err
		}
		inv, err = scanInvitation(tx.QueryRow(ctx, "SELECT "+invitationCols+" FROM invitations WHERE organization_id = ? AND id = ?", orgID, id))
		return err
	})
	if err != nil {
		return Invitation{}, "", err
	}
	return inv, token, nil
}

func (s *Service) acceptURL(token string) string {
	return strings.TrimRight(s.cfg.PublicURL, "/") + AcceptPath + "?token=" + url.QueryEscape(token)
}

// Invitations lists orgID's invitations, oldest first.
func (s *Service) Invitations(ctx context.Context, orgID string, req paging.Request) (paging.Page[Invitation], error) {
	key, err := paging.Decode(req.Cursor, 2)
	if err != nil {
		return paging.Page[Invitation]{}, fault.Invalid("%v", err)
	}
	n := req.Size()
	q := "SELECT " + invitationCols + " FROM invitations WHERE organization_id = ?"
	args := []any{orgID}
	if key != nil {
		after, err := cursorMillis(key[0])
		if err != nil {
			return paging.Page[Invitation]{}, err
		}
		q += " AND (created_at > ? OR (created_at = ? AND id > ?))"
		args = append(args, after, after, key[1])
	}
	q += " ORDER BY created_at, id LIMIT ?"
	args = append(args, n+1)
	var (
		out   []Invitation
		total int64
	)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM invitations WHERE organization_id = ?", orgID).Scan(&total); err != nil {
			return fmt.Errorf("count invitations: %w", err)
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("list invitations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			i, err := scanInvitation(rows)
			if err != nil {
				return fmt.Errorf("list invitations: %w", err)
			}
			out = append(out, i)
		}
		return rows.Err()
	})
	if err != nil {
		return paging.Page[Invitation]{}, err
	}
	return paging.Trim(out, n, total, func(i Invitation) []string { return []string{millisKey(i.Created), i.ID} }), nil
}

// RevokeInvitation revokes a pending invitation; revoking one already
// revoked is not an error, one accepted is refused.
func (s *Service) RevokeInvitation(ctx context.Context, p authz.Principal, orgID, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		inv, err := scanInvitation(tx.QueryRow(ctx, "SELECT "+invitationCols+" FROM invitations WHERE organization_id = ? AND id = ?"+tx.ForUpdate(), orgID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errNoInvitation()
		}
		if err != nil {
			return fmt.Errorf("get invitation: %w", err)
		}
		switch {
		case !inv.RevokedAt.IsZero():
			return nil
		case !inv.AcceptedAt.IsZero():
			return fault.Errorf(adminapi.ErrInvitationUsed, "this invitation was already accepted")
		}
		now := s.now()
		if _, err := tx.Exec(ctx, "UPDATE invitations SET revoked_at = ? WHERE organization_id = ? AND id = ?", store.Millis(now), orgID, id); err != nil {
			return fmt.Errorf("revoke invitation: %w", err)
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: p.Actor(), Action: "org.invitation.revoke", Target: id, Organization: orgID,
			Details: map[string]any{"email": inv.Email}})
	})
}

// Accepted is the result of accepting an invitation.
type Accepted struct {
	AccountID, Email string
	OrganizationID   string
	Role             authz.Role
	Created          bool   // the account was created by the acceptance
	Token            string // the session the acceptance signed in, a bearer token
}

// Accept uses an invitation token. With sessionAccountID (the invitee is
// signed in) that account joins and must have the invited email; otherwise
// an account with the invited email is created with password. The token
// works once and only before it expires.
func (s *Service) Accept(ctx context.Context, token, password, sessionAccountID string) (Accepted, error) {
	if check.Secret("invitation token", token) != nil {
		return Accepted{}, fault.Errorf(protocol.ErrNotFound, "this invitation link is not valid")
	}
	if sessionAccountID == "" && password == "" {
		return Accepted{}, fault.Invalid("set a password, or sign in to accept with your existing account")
	}
	var hash string
	if sessionAccountID == "" {
		if err := accounts.CheckPassword(password); err != nil {
			return Accepted{}, err
		}
		var err error
		if hash, err = s.accounts.HashPassword(ctx, password); err != nil {
			return Accepted{}, err
		}
	}
	var out Accepted
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		inv, err := scanInvitation(tx.QueryRow(ctx, "SELECT "+invitationCols+" FROM invitations WHERE token_hash = ?"+tx.ForUpdate(), ids.HashSecret(token)))
		if errors.Is(err, sql.ErrNoRows) {
			return fault.Errorf(protocol.ErrNotFound, "this invitation link is not valid")
		}
		if err != nil {
			return fmt.Errorf("get invitation: %w", err)
		}
		now := s.now()
		switch inv.State(now) {
		case "accepted", "revoked":
			return fault.Errorf(adminapi.ErrInvitationUsed, "this invitation was already used or was withdrawn; ask for a new one")
		case "expired":
			return fault.Errorf(adminapi.ErrInvitationExpired, "this invitation has expired; ask for a new one")
		}
		actor := "invitation:" + inv.ID
		out = Accepted{Email: inv.Email, OrganizationID: inv.OrganizationID, Role: inv.Role}
		if sessionAccountID != "" {
			email, err := accounts.EmailOf(ctx, tx, sessionAccountID)
			if err != nil {
				return err
			}
			if !strings.EqualFold(email, inv.Email) {
				return fault.Errorf(adminapi.ErrInvitationMismatch, "this invitation is for %s; sign in with that address", inv.Email)
			}
			out.AccountID = sessionAccountID
		} else {
			if _, err := accounts.IDByEmail(ctx, tx, inv.Email); err == nil {
				return fault.Errorf(adminapi.ErrAccountExists, "an account for %s already exists; sign in to accept", inv.Email)
			} else if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("look up account: %w", err)
			}
			acc, err := s.accounts.InsertAccountUnjournaled(ctx, tx, inv.Email, hash)
			if err != nil {
				return err
			}
			out.AccountID, out.Created = acc.ID, true
		}
		if _, err := tx.Exec(ctx, "UPDATE invitations SET accepted_at = ?, accepted_account_id = ? WHERE id = ?", store.Millis(now), out.AccountID, inv.ID); err != nil {
			return fmt.Errorf("accept invitation: %w", err)
		}
		// Joining, the account it may create and the sign-in that follows
		// are one change: one journal row, one transaction.
		mem, err := insertMembership(ctx, tx, inv.OrganizationID, out.AccountID, inv.Role, now)
		if err != nil {
			return err
		}
		if out.Token, err = s.accounts.NewSessionIn(ctx, tx, out.AccountID); err != nil {
			return err
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: "account:" + out.AccountID, Action: "org.invitation.accept", Target: inv.ID, Organization: inv.OrganizationID,
			Details: map[string]any{"email": inv.Email, "role": string(inv.Role), "membership": mem, "account_created": out.Created, "via": actor}})
	})
	return out, err
}
