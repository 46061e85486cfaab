// Package journal writes the server's audit trail. Every state change calls
// Record in the transaction that makes the change, so its row commits or
// rolls back with it. (Issue 10 turns this into the hash-chained journal;
// callers will not change.)
package journal

import (
	"context"
	"maps"
	"time"

	"github.com/entitle/entitle/server/internal/column"
	"github.com/entitle/entitle/server/store"
)

// Entry is one journal row.
type Entry struct {
	At     time.Time
	Actor  string // "admin", "system", "account:<id>", "device:<id>", "ip:<addr>"
	Action string // e.g. "device.activate"
	Target string // the id of what changed
	// Organization is the organization the change belongs to ("" for a
	// person's own account and for server-wide changes such as keys).
	Organization string
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

// Record writes e in tx.
func Record(ctx context.Context, tx *store.Tx, e Entry) error {
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
	details := e.Details
	if e.IP != "" {
		details = maps.Clone(details)
		if details == nil {
			details = map[string]any{}
		}
		details["ip"] = e.IP
	}
	detail := "{}"
	if len(details) > 0 {
		detail = column.JSON(details)
	}
	return tx.Audit(ctx, e.At, e.Actor, e.Action, e.Target, detail)
}
