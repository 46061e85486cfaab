package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// States of an outbox row.
const (
	StatePending = "pending" // waiting for its first or next attempt
	StateSent    = "sent"
	StateFailed  = "failed" // gave up after the maximum attempts; Retry requeues it
)

// Row is one outbox row as the operator sees it (never its arguments, which
// may hold a reset link or a license key).
type Row struct {
	ID           string     `json:"id"`
	Kind         string     `json:"kind"`
	To           string     `json:"to"`
	Locale       string     `json:"locale"`
	Organization string     `json:"organization,omitempty"`
	State        string     `json:"state"`
	Attempts     int        `json:"attempts"`
	LastError    string     `json:"last_error,omitempty"`
	Created      time.Time  `json:"created"`
	NextAttempt  time.Time  `json:"next_attempt"`
	Sent         *time.Time `json:"sent,omitempty"`
	Failed       *time.Time `json:"failed,omitempty"`
}

// List returns one page of the outbox, oldest first, optionally only the rows
// in state ("" for all).
func List(ctx context.Context, db *store.DB, req paging.Request, state string) (paging.Page[Row], error) {
	if err := req.Validate(); err != nil {
		return paging.Page[Row]{}, fault.Invalid("%v", err)
	}
	var where string
	switch state {
	case "":
		where = "1 = 1"
	case StatePending:
		where = "sent_at IS NULL AND failed_at IS NULL"
	case StateSent:
		where = "sent_at IS NOT NULL"
	case StateFailed:
		where = "failed_at IS NOT NULL"
	default:
		return paging.Page[Row]{}, fault.Invalid("state must be pending, sent or failed")
	}
	var total int64
	if err := db.QueryRow(ctx, "SELECT count(*) FROM mail_outbox WHERE "+where).Scan(&total); err != nil {
		return paging.Page[Row]{}, fmt.Errorf("count outbox: %w", err)
	}
	key, err := paging.Decode(req.Cursor, 2)
	if err != nil {
		return paging.Page[Row]{}, fault.Invalid("%v", err)
	}
	args := []any{}
	if key != nil {
		created, err := strconv.ParseInt(key[0], 10, 64)
		if err != nil {
			return paging.Page[Row]{}, fault.Invalid("%v", paging.ErrCursor)
		}
		where += " AND (created_at > ? OR (created_at = ? AND id > ?))"
		args = append(args, created, created, key[1])
	}
	n := req.Size()
	args = append(args, n+1)
	q, err := db.Query(ctx, `SELECT id, kind, recipient, locale, organization_id, attempts, last_error, created_at, next_attempt_at, sent_at, failed_at
		FROM mail_outbox WHERE `+where+` ORDER BY created_at, id LIMIT ?`, args...)
	if err != nil {
		return paging.Page[Row]{}, fmt.Errorf("list outbox: %w", err)
	}
	defer q.Close()
	var rows []Row
	for q.Next() {
		var (
			r             Row
			created, next int64
			sent, failed  sql.NullInt64
		)
		if err := q.Scan(&r.ID, &r.Kind, &r.To, &r.Locale, &r.Organization, &r.Attempts, &r.LastError, &created, &next, &sent, &failed); err != nil {
			return paging.Page[Row]{}, fmt.Errorf("list outbox: %w", err)
		}
		r.Created, r.NextAttempt, r.State = store.FromMillis(created), store.FromMillis(next), StatePending
		if sent.Valid {
			t := store.FromMillis(sent.Int64)
			r.Sent, r.State = &t, StateSent
		}
		if failed.Valid {
			t := store.FromMillis(failed.Int64)
			r.Failed, r.State = &t, StateFailed
		}
		rows = append(rows, r)
	}
	if err := q.Err(); err != nil {
		return paging.Page[Row]{}, fmt.Errorf("list outbox: %w", err)
	}
	return paging.Trim(rows, n, total, func(r Row) []string {
		return []string{strconv.FormatInt(store.Millis(r.Created), 10), r.ID}
	}), nil
}

// Retry requeues a failed mail for an immediate attempt with a fresh count
// of attempts, journaled as actor.
func Retry(ctx context.Context, db *store.DB, now time.Time, actor, id string) error {
	if id == "" || len(id) > 64 {
		return fault.Errorf(protocol.ErrNotFound, "no failed mail %q", id)
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		var org string
		err := tx.QueryRow(ctx, "SELECT organization_id FROM mail_outbox WHERE id = ? AND failed_at IS NOT NULL AND sent_at IS NULL", id).Scan(&org)
		if errors.Is(err, sql.ErrNoRows) {
			return fault.Errorf(protocol.ErrNotFound, "no failed mail %q", id)
		}
		if err != nil {
			return fmt.Errorf("retry mail: %w", err)
		}
		if _, err := tx.Exec(ctx, "UPDATE mail_outbox SET failed_at = NULL, attempts = 0, next_attempt_at = ? WHERE id = ?", store.Millis(now), id); err != nil {
			return fmt.Errorf("retry mail: %w", err)
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: "mail.retry", Target: id, Organization: org})
	})
}
