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
	// IP is the client address of the request, when there is one; it is
	// recorded in the details as "ip".
	IP      string
	Details map[string]any
}

// Record writes e in tx.
func Record(ctx context.Context, tx *store.Tx, e Entry) error {
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
