// Package column encodes Go values for the store's columns.
package column

import (
	"database/sql"
	"encoding/json"
	"time"

	"github.com/entitle/entitle/server/store"
)

// JSON encodes plain values (features, facts, profiles, audit details),
// which cannot fail to encode; "{}" keeps the column valid JSON if that ever
// changes.
func JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// NullMillis is t in store milliseconds, or NULL for the zero time.
func NullMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return store.Millis(t)
}

// TimePtr reads a nullable millisecond column: nil for NULL.
func TimePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := store.FromMillis(v.Int64)
	return &t
}
