package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestMigrationKeepsLegacyCredentials fills a database at the version
// before device credentials named their device, then migrates it: every
// device's credential hash is in device_legacy_credentials, mapped to its
// device (so the credentials issued before keep working), and the index
// over devices.credential_hash is gone.
func TestMigrationKeepsLegacyCredentials(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		dsn := storetest.DSN(t, d)
		old, err := store.OpenAt(ctx, dsn, 21)
		if err != nil {
			t.Fatal(err)
		}
		seed(t, old, 5)
		if err := old.InTx(ctx, func(tx *store.Tx) error {
			for _, id := range []string{"dev_a", "dev_b"} {
				if err := insertDevice(ctx, tx, id, "fp-"+id); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := old.Close(); err != nil {
			t.Fatal(err)
		}

		db, err := store.Open(ctx, dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query(ctx, "SELECT credential_hash, device_id FROM device_legacy_credentials ORDER BY device_id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var h, id string
			if err := rows.Scan(&h, &id); err != nil {
				t.Fatal(err)
			}
			got = append(got, h+"="+id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if want := "h-dev_a=dev_a h-dev_b=dev_b"; strings.Join(got, " ") != want {
			t.Fatalf("legacy credentials %q, want %q", strings.Join(got, " "), want)
		}
		q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'devices_credential'"
		if d == store.Postgres {
			q = "SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'devices_credential'"
		}
		var n int
		if err := db.QueryRow(ctx, q).Scan(&n); err != nil || n != 0 {
			t.Fatalf("index devices_credential: %d (%v), want gone", n, err)
		}
	})
}
