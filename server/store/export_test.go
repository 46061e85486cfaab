package store

import "database/sql"

// WritePoolStats reports the write pool's statistics, for tests that check a
// connection survives a cancelled request.
func (db *DB) WritePoolStats() sql.DBStats { return db.write.Stats() }
