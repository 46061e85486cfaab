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

// seedKeys is how seeded devices are keyed.
type seedKeys int

const (
	// namedKeys: device i has id dev_seed_<i>, fingerprint and credential
	// hash seed-<i>, for tests that look rows up by name.
	namedKeys seedKeys = iota
	// realKeys: keys as activation makes them, for benchmarks whose cost
	// depends on where in each index a new row lands: an id in ids.At's
	// format stamped with the device's activation time, a random
	// fingerprint and a random credential hash.
	realKeys
)

// seedDevices inserts n devices on license licID with a recursive CTE, fast
// enough for a million rows. Device i is activated at base+i/ties ms (so
// activation times tie), keyed as keys says, and every deactivateEvery-th
// is deactivated (0: none).
func seedDevices(t testing.TB, db *store.DB, keys seedKeys, licID string, n, ties, deactivateEvery int, base int64) {
	t.Helper()
	deact := "NULL"
	if deactivateEvery > 0 {
		deact = "CASE WHEN j % CAST(? AS INTEGER) = 0 THEN CAST(? AS BIGINT) ELSE NULL END"
	}
	id, fpr, cred := "'dev_seed_' || j", "'seed-' || j", "'seed-' || j"
	if keys == realKeys {
		id, fpr, cred = realKeyExprs(db.Dialect())
	}
	q := `INSERT INTO devices (id, license_id, fingerprint, product, hostname, credential_hash, activated_at, last_seen_at, deactivated_at)
		WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < CAST(? AS INTEGER)),
		num(j, at) AS (SELECT i + CAST(? AS INTEGER), CAST(? AS BIGINT) + (i + CAST(? AS INTEGER)) / CAST(? AS INTEGER) FROM seq)
		SELECT ` + id + `, ?, ` + fpr + `, 'bench', 'seed', ` + cred + `, at, at, ` + deact + ` FROM num`
	for off := 0; off < n; off += seedChunk {
		args := []any{min(seedChunk, n-off), off, base, off, ties, licID}
		if deactivateEvery > 0 {
			args = append(args, deactivateEvery, base)
		}
		if _, err := db.Exec(t.Context(), q, args...); err != nil {
			t.Fatalf("seed %d devices: %v", n, err)
		}
	}
}

// realKeyExprs returns the SQL of a seeded device's id, fingerprint and
// credential hash with realKeys, over the row's activation time at.
func realKeyExprs(d store.Dialect) (id, fpr, cred string) {
	if d == store.Postgres {
		random := "md5(random()::text) || md5(random()::text)"
		return "'dev_' || lpad(to_hex(at), 12, '0') || substr(md5(random()::text), 1, 20)", random, random
	}
	random := "lower(hex(randomblob(32)))"
	return "'dev_' || printf('%012x', at) || lower(hex(randomblob(10)))", random, random
}
