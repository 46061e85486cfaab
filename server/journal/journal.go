// Package journal is the server's audit trail. Every state change and every
// sign-in calls Record in the transaction that makes the change, so its row
// commits or rolls back with it: a row is never lost and never written for a
// change that rolled back.
//
// Rows are hash-chained per organization ("" is the chain of personal
// accounts and server-wide changes): each row carries its place in the chain
// (seq 1, 2, 3...), the hash of the row before it and its own hash, SHA-256
// over a length-prefixed encoding of every field (Hash). The chain's head
// (last seq and hash) lives in journal_heads; Record advances it with one
// upsert, which on PostgreSQL locks the head row until commit, so concurrent
// writers of one organization queue there and the chain has neither gaps nor
// forks (SQLite has a single writer). Verify recomputes every chain and names
// the first row that was edited, deleted or inserted behind the server's
// back; List and WriteCSV read it back for people.
package journal

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/entitle/entitle/server/internal/column"
	"github.com/entitle/entitle/server/store"
)

// Entry is one journal row as a domain writes it.
type Entry struct {
	At     time.Time
	Actor  string // "admin", "system", "account:<id>", "device:<id>", "ip:<addr>", "operator:<id>"
	Action string // e.g. "device.activate"
	Target string // the id of what changed
	// Organization is the organization the change belongs to ("" for a
	// person's own account and for server-wide changes such as keys).
	Organization string
	// Account is the person the row belongs to: the account that acted, or
	// for a sign-in the account signed in to (also when it failed). When
	// empty it is taken from an "account:<id>" Actor.
	Account string
	// IP, UserAgent and RequestID describe the request that made the
	// change; when empty they are taken from the context (WithRequest).
	IP        string
	UserAgent string
	RequestID string
	Details   map[string]any
}

// Request is what the HTTP layer knows of the request being served.
type Request struct {
	IP        string
	UserAgent string
	RequestID string
}

type requestKey struct{}

// WithRequest returns a context that carries r, so every Record made while
// serving the request names its IP, user agent and request id.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request WithRequest stored in ctx, if any.
func RequestFrom(ctx context.Context) (Request, bool) {
	r, ok := ctx.Value(requestKey{}).(Request)
	return r, ok
}

// Bounds on the request fields a row keeps (they come from outside).
const (
	MaxIP        = 64
	MaxUserAgent = 512
	MaxRequestID = 64
)

// clip bounds s to n bytes without splitting a character and replaces
// invalid UTF-8, so outside input can neither bloat nor corrupt a row.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// Record writes e in tx as the next row of its organization's chain.
func Record(ctx context.Context, tx *store.Tx, e Entry) error {
	if e.Action == "" {
		return fmt.Errorf("journal: entry without an action")
	}
	if r, ok := RequestFrom(ctx); ok {
		if e.IP == "" {
			e.IP = r.IP
		}
		if e.UserAgent == "" {
			e.UserAgent = r.UserAgent
		}
		if e.RequestID == "" {
			e.RequestID = r.RequestID
		}
	}
	if e.Account == "" {
		if id, ok := strings.CutPrefix(e.Actor, "account:"); ok {
			e.Account = id
		}
	}
	detail := "{}"
	if len(e.Details) > 0 {
		detail = column.JSON(e.Details)
	}
	row := Row{
		Organization: e.Organization, At: store.FromMillis(store.Millis(e.At)), Actor: e.Actor, Account: e.Account,
		Action: e.Action, Target: e.Target, IP: clip(e.IP, MaxIP), UserAgent: clip(e.UserAgent, MaxUserAgent),
		RequestID: clip(e.RequestID, MaxRequestID), Details: detail,
	}
	if err := appendRow(ctx, tx, &row); err != nil {
		return fmt.Errorf("write journal row %s: %w", e.Action, err)
	}
	return nil
}

// appendRow takes the next seq of row's chain, links and hashes the row, and
// inserts it. The upsert on journal_heads is the serialization point: on
// PostgreSQL it locks the head row until the transaction ends.
func appendRow(ctx context.Context, tx *store.Tx, row *Row) error {
	if err := tx.WriteRow(ctx, `INSERT INTO journal_heads (organization_id, seq, hash) VALUES (?, 1, '')
		ON CONFLICT (organization_id) DO UPDATE SET seq = journal_heads.seq + 1 RETURNING seq, hash`,
		[]any{&row.Seq, &row.PrevHash}, row.Organization); err != nil {
		return fmt.Errorf("advance chain head: %w", err)
	}
	row.Hash = Hash(*row)
	if _, err := tx.Exec(ctx, "UPDATE journal_heads SET hash = ? WHERE organization_id = ?", row.Hash, row.Organization); err != nil {
		return fmt.Errorf("set chain head: %w", err)
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_events (organization_id, seq, at, actor, account_id, action, subject, ip, user_agent,
		request_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		row.Organization, row.Seq, store.Millis(row.At), row.Actor, row.Account, row.Action, row.Target, row.IP, row.UserAgent,
		row.RequestID, row.Details, row.PrevHash, row.Hash)
	return err
}
