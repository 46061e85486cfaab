package workspaces

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/internal/column"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
)

// Token is an enrollment token; Secret is set only when it is created.
type Token struct {
	ID, WorkspaceID, Label, Secret string
	MaxUses, Uses                  int
	ExpiresAt, RevokedAt           *time.Time
	Created                        time.Time
}

// CreateToken makes an enrollment token for one of owner's workspaces. The
// secret is returned once; only its hash is stored.
func (s *Service) CreateToken(ctx context.Context, owner Owner, workspaceID string, req accountapi.EnrollmentTokenRequest) (Token, error) {
	if err := req.Validate(); err != nil {
		return Token{}, invalid(err)
	}
	if _, err := s.Get(ctx, owner, workspaceID); err != nil {
		return Token{}, err
	}
	secret, err := ids.Token(32)
	if err != nil {
		return Token{}, err
	}
	secret = protocol.EnrollmentTokenPrefix + secret
	id, err := ids.New("enr")
	if err != nil {
		return Token{}, err
	}
	now := s.now()
	t := Token{ID: id, WorkspaceID: workspaceID, Label: req.Label, Secret: secret, MaxUses: req.MaxUses, Created: now.UTC()}
	var maxUses, expires any
	if req.MaxUses > 0 {
		maxUses = req.MaxUses
	}
	if req.TTLSeconds > 0 {
		at := now.Add(time.Duration(req.TTLSeconds) * time.Second).UTC()
		t.ExpiresAt, expires = &at, store.Millis(at)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO enrollment_tokens (id, workspace_id, token_hash, label, max_uses, expires_at, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, workspaceID, ids.HashSecret(secret), req.Label, maxUses, expires, owner.actor(), store.Millis(now)); err != nil {
			return fmt.Errorf("create enrollment token: %w", err)
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: owner.actor(), Organization: owner.OrganizationID,
			Action: "enrollment_token.create", Target: id, Details: map[string]any{"workspace": workspaceID, "max_uses": req.MaxUses}})
	})
	if err != nil {
		return Token{}, err
	}
	return t, nil
}

const tokenCols = "id, workspace_id, label, max_uses, uses, expires_at, revoked_at, created_at"

func scanToken(row scanner) (Token, error) {
	var (
		t                         Token
		maxUses, expires, revoked sql.NullInt64
		created                   int64
	)
	if err := row.Scan(&t.ID, &t.WorkspaceID, &t.Label, &maxUses, &t.Uses, &expires, &revoked, &created); err != nil {
		return Token{}, err
	}
	t.MaxUses = int(maxUses.Int64)
	t.ExpiresAt, t.RevokedAt = column.TimePtr(expires), column.TimePtr(revoked)
	t.Created = store.FromMillis(created)
	return t, nil
}

// Tokens lists a workspace's tokens, newest first (at most 500: a
// workspace has a handful).
func (s *Service) Tokens(ctx context.Context, owner Owner, workspaceID string) ([]Token, error) {
	if _, err := s.Get(ctx, owner, workspaceID); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT "+tokenCols+" FROM enrollment_tokens WHERE workspace_id = ? ORDER BY created_at DESC, id LIMIT 500", workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list enrollment tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("read enrollment token: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken stops a token at once; revoking twice changes nothing.
func (s *Service) RevokeToken(ctx context.Context, owner Owner, workspaceID, tokenID string) error {
	if _, err := s.Get(ctx, owner, workspaceID); err != nil {
		return err
	}
	now := s.now()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		n, err := tx.ExecAffected(ctx, "UPDATE enrollment_tokens SET revoked_at = ? WHERE id = ? AND workspace_id = ? AND revoked_at IS NULL",
			store.Millis(now), tokenID, workspaceID)
		if err != nil {
			return fmt.Errorf("revoke enrollment token: %w", err)
		}
		if n == 0 {
			var exists int
			_ = tx.QueryRow(ctx, "SELECT count(*) FROM enrollment_tokens WHERE id = ? AND workspace_id = ?", tokenID, workspaceID).Scan(&exists)
			if exists == 0 {
				return errf(protocol.ErrNotFound, "there is no enrollment token %s in this workspace", check.Truncate(tokenID, 64))
			}
			return nil
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: owner.actor(), Organization: owner.OrganizationID,
			Action: "enrollment_token.revoke", Target: tokenID, Details: map[string]any{"workspace": workspaceID}})
	})
}

// Enroll resolves an enrollment token inside an activation's transaction:
// it counts one use (refused once revoked, expired or used up) and returns
// the workspace's license, locked for the seat claim. The refusal does not
// say which of the four it is to someone who does not hold a valid token.
func (s *Service) Enroll(ctx context.Context, tx *store.Tx, token string) (licenses.License, error) {
	refused := errf(protocol.ErrEnrollmentRefused, "this enrollment token is not valid (revoked, expired, used up or mistyped); ask your administrator for a new one")
	if !protocol.ValidEnrollmentToken(token) {
		return licenses.License{}, refused
	}
	now := store.Millis(s.now())
	var id, licenseID string
	err := tx.QueryRow(ctx, `SELECT t.id, w.license_id FROM enrollment_tokens t JOIN workspaces w ON w.id = t.workspace_id
		WHERE t.token_hash = ?`, ids.HashSecret(token)).Scan(&id, &licenseID)
	if errors.Is(err, sql.ErrNoRows) {
		return licenses.License{}, refused
	}
	if err != nil {
		return licenses.License{}, fmt.Errorf("look up enrollment token: %w", err)
	}
	// The guarded update is the check: two enrollments racing for the last
	// use of a token cannot both pass.
	n, err := tx.ExecAffected(ctx, `UPDATE enrollment_tokens SET uses = uses + 1 WHERE id = ? AND revoked_at IS NULL
		AND (expires_at IS NULL OR expires_at > ?) AND (max_uses IS NULL OR uses < max_uses)`, id, now)
	if err != nil {
		return licenses.License{}, fmt.Errorf("use enrollment token: %w", err)
	}
	if n == 0 {
		return licenses.License{}, refused
	}
	lic, err := licenses.Scan(tx.QueryRow(ctx, "SELECT "+licenses.Cols+licenses.From+" WHERE l.id = ?"+licenses.Lock(tx), licenseID))
	if err != nil {
		return licenses.License{}, fmt.Errorf("look up workspace license: %w", err)
	}
	return lic, nil
}
