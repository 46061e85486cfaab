package devices_test

import (
	"testing"

	"github.com/entitle/entitle/server/store"
)

// seedDevices inserts n devices on license licID in one statement (a
// recursive CTE, the same on both databases), fast enough for a million
// rows. Device i has id dev_seed_<i>, fingerprint seed-<i>, credential hash
// seed-<i>, activated at base+i/ties ms (so ties of activation time occur),
// and every deactivateEvery-th one is deactivated (0: none).
func seedDevices(t testing.TB, db *store.DB, licID string, n, ties, deactivateEvery int, base int64) {
	t.Helper()
	deact := "NULL"
	if deactivateEvery > 0 {
		deact = "CASE WHEN i % CAST(? AS INTEGER) = 0 THEN CAST(? AS BIGINT) ELSE NULL END"
	}
	q := `INSERT INTO devices (id, license_id, fingerprint, product, hostname, credential_hash, activated_at, last_seen_at, deactivated_at)
		WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < CAST(? AS INTEGER))
		SELECT 'dev_seed_' || i, ?, 'seed-' || i, 'bench', 'seed', 'seed-' || i, CAST(? AS BIGINT) + i / CAST(? AS INTEGER), CAST(? AS BIGINT) + i / CAST(? AS INTEGER), ` + deact + ` FROM seq`
	args := []any{n, licID, base, ties, base, ties}
	if deactivateEvery > 0 {
		args = append(args, deactivateEvery, base)
	}
	if _, err := db.Exec(t.Context(), q, args...); err != nil {
		t.Fatalf("seed %d devices: %v", n, err)
	}
}
