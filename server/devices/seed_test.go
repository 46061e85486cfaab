package devices_test

import (
	"testing"

	"github.com/entitle/entitle/server/store"
)

// seedChunk is how many devices one seeding statement inserts, so that each
// stays well inside the store's write timeout, also under the race detector
// on a loaded machine (each row also counts itself into
// licenses.device_count).
const seedChunk = 2_000

// seedDevices inserts n devices on license licID with a recursive CTE (the
// same SQL on both databases), fast enough for a million rows. Device i has
// id dev_seed_<i>, fingerprint and credential hash seed-<i>, activated at
// base+i/ties ms (so activation times tie), and every deactivateEvery-th is
// deactivated (0: none).
func seedDevices(t testing.TB, db *store.DB, licID string, n, ties, deactivateEvery int, base int64) {
	t.Helper()
	deact := "NULL"
	if deactivateEvery > 0 {
		deact = "CASE WHEN j % CAST(? AS INTEGER) = 0 THEN CAST(? AS BIGINT) ELSE NULL END"
	}
	q := `INSERT INTO devices (id, license_id, fingerprint, product, hostname, credential_hash, activated_at, last_seen_at, deactivated_at)
		WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < CAST(? AS INTEGER)),
		num(j) AS (SELECT i + CAST(? AS INTEGER) FROM seq)
		SELECT 'dev_seed_' || j, ?, 'seed-' || j, 'bench', 'seed', 'seed-' || j,
		CAST(? AS BIGINT) + j / CAST(? AS INTEGER), CAST(? AS BIGINT) + j / CAST(? AS INTEGER), ` + deact + ` FROM num`
	for off := 0; off < n; off += seedChunk {
		args := []any{min(seedChunk, n-off), off, licID, base, ties, base, ties}
		if deactivateEvery > 0 {
			args = append(args, deactivateEvery, base)
		}
		if _, err := db.Exec(t.Context(), q, args...); err != nil {
			t.Fatalf("seed %d devices: %v", n, err)
		}
	}
}
