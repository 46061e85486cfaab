package store

import (
	"context"
	"database/sql"
)

// WritePoolStats reports the write pool's statistics, for tests that check a
// connection survives a cancelled request.
func (db *DB) WritePoolStats() sql.DBStats { return db.write.Stats() }

// OpenAt opens the database named by dsn migrated only up to version, for
// tests of a migration over the data of the one before.
func OpenAt(ctx context.Context, dsn string, version int64) (*DB, error) {
	return OpenWith(ctx, dsn, Options{version: version})
}
