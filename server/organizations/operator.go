package organizations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// OperatorTokenPrefix starts every operator token, so the API tells them
// from session tokens without a second look-up.
const OperatorTokenPrefix = "eop_"

// OperatorToken is an operator bearer token (its secret is shown once).
type OperatorToken struct {
	ID, Name  string
	Created   time.Time
	LastUsed  time.Time // zero if never used
	RevokedAt time.Time // zero unless revoked
}

// IsOperatorToken reports whether a bearer token has the operator form.
func IsOperatorToken(tok string) bool { return strings.HasPrefix(tok, OperatorTokenPrefix) }

// CreateOperatorToken makes an operator token named name (a note for
// people, such as who holds it) and returns it with its secret.
func (s *Service) CreateOperatorToken(ctx context.Context, actor, name string) (OperatorToken, string, error) {
	if err := check.Text("token name", name, maxName, true); err != nil {
		return OperatorToken{}, "", err
	}
	id, err := ids.New("opt")
	if err != nil {
		return OperatorToken{}, "", err
	}
	raw, err := ids.Token(32)
	if err != nil {
		return OperatorToken{}, "", err
	}
	secret := OperatorTokenPrefix + raw
	now := s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO operator_tokens (id, name, token_hash, created_at) VALUES (?, ?, ?, ?)",
			id, name, ids.HashSecret(secret), store.Millis(now)); err != nil {
			return fmt.Errorf("create operator token: %w", err)
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: "operator.token.create", Target: id, Details: map[string]any{"name": name}})
	})
	if err != nil {
		return OperatorToken{}, "", err
	}
	return OperatorToken{ID: id, Name: name, Created: store.FromMillis(store.Millis(now))}, secret, nil
}

// OperatorTokens lists every operator token, revoked ones included, oldest
// first. There are few, so the list is not paginated.
func (s *Service) OperatorTokens(ctx context.Context) ([]OperatorToken, error) {
	rows, err := s.db.Query(ctx, "SELECT id, name, created_at, last_used_at, revoked_at FROM operator_tokens ORDER BY created_at, id LIMIT 1000")
	if err != nil {
		return nil, fmt.Errorf("list operator tokens: %w", err)
	}
	defer rows.Close()
	var out []OperatorToken
	for rows.Next() {
		var (
			t             OperatorToken
			created       int64
			used, revoked sql.NullInt64
		)
		if err := rows.Scan(&t.ID, &t.Name, &created, &used, &revoked); err != nil {
			return nil, fmt.Errorf("list operator tokens: %w", err)
		}
		t.Created, t.LastUsed, t.RevokedAt = store.FromMillis(created), nullTime(used), nullTime(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeOperatorToken revokes a token at once; revoking twice is not an
// error.
func (s *Service) RevokeOperatorToken(ctx context.Context, actor, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		n, err := tx.ExecAffected(ctx, "UPDATE operator_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", store.Millis(now), id)
		if err != nil {
			return fmt.Errorf("revoke operator token: %w", err)
		}
		if n == 0 {
			var one int
			err := tx.QueryRow(ctx, "SELECT 1 FROM operator_tokens WHERE id = ?", id).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return fault.Errorf(protocol.ErrNotFound, "no operator token %s", id)
			}
			return err
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: "operator.token.revoke", Target: id})
	})
}

func errOperatorToken() *fault.Error {
	return fault.Errorf(protocol.ErrInvalidCredentials, "the operator token is not valid or was revoked")
}

// OperatorTokenID checks an operator bearer token and returns its id. The
// secret is compared by its hash, so timing reveals nothing of it.
func (s *Service) OperatorTokenID(ctx context.Context, secret string) (string, error) {
	if !IsOperatorToken(secret) || check.Secret("operator token", secret) != nil {
		return "", errOperatorToken()
	}
	var (
		id   string
		used sql.NullInt64
	)
	err := s.db.QueryRow(ctx, "SELECT id, last_used_at FROM operator_tokens WHERE token_hash = ? AND revoked_at IS NULL", ids.HashSecret(secret)).Scan(&id, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errOperatorToken()
	}
	if err != nil {
		return "", fmt.Errorf("look up operator token: %w", err)
	}
	// last_used_at is a hint for people reviewing tokens: written at most
	// once a minute so a busy operator script does not write on every call.
	now := s.now()
	if !used.Valid || now.Sub(store.FromMillis(used.Int64)) > time.Minute {
		if _, err := s.db.Exec(ctx, "UPDATE operator_tokens SET last_used_at = ? WHERE id = ?", store.Millis(now), id); err != nil {
			s.log.WarnContext(ctx, "could not note an operator token's use", "token", id, "error", err)
		}
	}
	return id, nil
}
