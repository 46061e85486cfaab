package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestStmtCacheReuseAndEviction runs the same query again while its first
// result is still being read (the cached statement is busy: the second run
// must not reset the first), and more distinct queries than the cache holds
// (the least recently used are closed), and checks every answer.
func TestStmtCacheReuseAndEviction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		ctx := context.Background()
		if _, err := db.Exec(ctx, "CREATE TABLE cache_probe (n INTEGER NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for i := range 5 {
				if _, err := tx.Exec(ctx, "INSERT INTO cache_probe (n) VALUES (?)", i); err != nil {
					return err
				}
			}
			const q = "SELECT n FROM cache_probe ORDER BY n"
			outer, err := tx.Query(ctx, q)
			if err != nil {
				return err
			}
			defer outer.Close()
			var seen []int
			for outer.Next() {
				var n int
				if err := outer.Scan(&n); err != nil {
					return err
				}
				// The same text again, while outer is open (SQLite only:
				// pgx runs one query at a time on a connection).
				if d == store.SQLite {
					var count int
					inner, err := tx.Query(ctx, q)
					if err != nil {
						return err
					}
					for inner.Next() {
						count++
					}
					inner.Close()
					if count != 5 {
						return fmt.Errorf("inner run saw %d rows, want 5", count)
					}
				}
				seen = append(seen, n)
			}
			if err := outer.Err(); err != nil {
				return err
			}
			if fmt.Sprint(seen) != "[0 1 2 3 4]" {
				return fmt.Errorf("outer run saw %v", seen)
			}
			// More distinct statements than the cache holds, twice over.
			for i := range 2 * (store.DefaultStmtCacheSize + 10) {
				var got int
				if err := tx.QueryRow(ctx, fmt.Sprintf("SELECT %d + count(*) FROM cache_probe", i)).Scan(&got); err != nil {
					return err
				}
				if got != i+5 {
					return fmt.Errorf("query %d answered %d", i, got)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// A failing statement leaves its cached copy usable.
		for range 3 {
			if _, err := db.Exec(ctx, "INSERT INTO cache_probe (n) VALUES (NULL)"); err == nil {
				t.Fatal("NULL into NOT NULL accepted")
			}
		}
		var total int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM cache_probe").Scan(&total); err != nil || total != 5 {
			t.Fatalf("count %d, %v", total, err)
		}
	})
}
