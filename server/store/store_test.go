package store_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func TestParseDSN(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		dsn     string
		want    store.Dialect
		wantErr bool
	}{
		{"plain path", filepath.Join(dir, "a.db"), store.SQLite, false},
		{"sqlite prefix", "sqlite:" + filepath.Join(dir, "b.db"), store.SQLite, false},
		{"sqlite URL", "sqlite://" + filepath.Join(dir, "c.db"), store.SQLite, false},
		{"empty", "", "", true},
		{"memory", "sqlite::memory:", "", true},
		{"query in path", filepath.Join(dir, "d.db") + "?mode=ro", "", true},
		{"unknown scheme", "mysql://localhost/x", "", true},
		{"missing folder", filepath.Join(dir, "nope", "e.db"), "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := store.Open(context.Background(), tc.dsn, slog.New(slog.DiscardHandler))
			if tc.wantErr {
				if err == nil {
					db.Close()
					t.Fatalf("Open(%q) succeeded, want an error", tc.dsn)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", tc.dsn, err)
			}
			defer db.Close()
			if db.Dialect() != tc.want {
				t.Fatalf("Dialect() = %q, want %q", db.Dialect(), tc.want)
			}
		})
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		dsn := storetest.DSN(t, d)
		if err := store.Migrate(ctx, dsn); err != nil {
			t.Fatalf("first Migrate: %v", err)
		}
		if err := store.Migrate(ctx, dsn); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		db, err := store.Open(ctx, dsn, nil)
		if err != nil {
			t.Fatalf("Open after Migrate: %v", err)
		}
		defer db.Close()
		for _, table := range []string{"accounts", "sessions", "licenses", "devices", "device_authorizations", "signing_keys", "audit_events", "settings"} {
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
				t.Errorf("table %s: %v", table, err)
			}
		}
	})
}

// seed inserts an account and a license with the given seats.
func seed(t *testing.T, db *store.DB, seats int) {
	t.Helper()
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO accounts (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)", "a1", "a@example.com", "x", 1); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO licenses (id, license_key, owner_account_id, plan, features, max_profiles, seats, seats_used, term_start, term_end, subscription, suspended, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, NULL, ?, ?, ?)`, "l1", "KEY", "a1", "Pro", "[]", 1, seats, 1, false, false, 1)
		return err
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
}

func insertDevice(ctx context.Context, tx *store.Tx, id, fpr string) error {
	_, err := tx.Exec(ctx, `INSERT INTO devices (id, license_id, fingerprint, product, credential_hash, activated_at, last_seen_at)
		VALUES (?, 'l1', ?, 'p', ?, 1, 1)`, id, fpr, "h-"+id)
	return err
}

func TestConstraints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		db := storetest.Open(t, d)
		seed(t, db, 2)

		t.Run("email unique regardless of case", func(t *testing.T) {
			_, err := db.Exec(ctx, "INSERT INTO accounts (id, email, password_hash, created_at) VALUES ('a2', 'A@Example.COM', 'x', 1)")
			if !store.IsUniqueViolation(err) {
				t.Fatalf("duplicate email: err = %v, want unique violation", err)
			}
		})
		t.Run("one active device per fingerprint", func(t *testing.T) {
			if err := db.InTx(ctx, func(tx *store.Tx) error { return insertDevice(ctx, tx, "d1", "f") }); err != nil {
				t.Fatal(err)
			}
			err := db.InTx(ctx, func(tx *store.Tx) error { return insertDevice(ctx, tx, "d2", "f") })
			if !store.IsUniqueViolation(err) {
				t.Fatalf("second active device: err = %v, want unique violation", err)
			}
			if _, err := db.Exec(ctx, "UPDATE devices SET deactivated_at = 5 WHERE id = 'd1'"); err != nil {
				t.Fatal(err)
			}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return insertDevice(ctx, tx, "d2", "f") }); err != nil {
				t.Fatalf("active device next to a deactivated one: %v", err)
			}
		})
		t.Run("seats_used cannot exceed seats", func(t *testing.T) {
			_, err := db.Exec(ctx, "UPDATE licenses SET seats_used = 3 WHERE id = 'l1'")
			if err == nil {
				t.Fatal("seats_used = 3 on a 2-seat license was accepted")
			}
		})
		t.Run("foreign keys enforced", func(t *testing.T) {
			_, err := db.Exec(ctx, `INSERT INTO devices (id, license_id, fingerprint, product, credential_hash, activated_at, last_seen_at)
				VALUES ('d9', 'nope', 'g', 'p', 'h9', 1, 1)`)
			if err == nil {
				t.Fatal("device for a missing license was accepted")
			}
		})
		t.Run("rollback on error", func(t *testing.T) {
			sentinel := errors.New("stop")
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.Exec(ctx, "INSERT INTO settings (name, value) VALUES ('rollback-test', 'x')"); err != nil {
					return err
				}
				return sentinel
			})
			if !errors.Is(err, sentinel) {
				t.Fatalf("InTx error = %v, want the callback's", err)
			}
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE name = 'rollback-test'").Scan(&n); err != nil || n != 0 {
				t.Fatalf("rows after rollback = %d, %v; want 0", n, err)
			}
		})
	})
}

// TestConcurrentWrites checks the promise that callers never see a busy or
// serialization error: many writers and readers at once all succeed, and the
// guarded seat update lets exactly `seats` of them through.
func TestConcurrentWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		db := storetest.Open(t, d)
		const seats, writers = 7, 60
		seed(t, db, seats)
		var wg sync.WaitGroup
		errs := make(chan error, 2*writers)
		won := make(chan string, writers)
		for i := range writers {
			wg.Add(2)
			go func() {
				defer wg.Done()
				err := db.InTx(ctx, func(tx *store.Tx) error {
					n, err := tx.ExecAffected(ctx, "UPDATE licenses SET seats_used = seats_used + 1 WHERE id = 'l1' AND seats_used < seats")
					if err != nil || n == 0 {
						return err
					}
					id := fmt.Sprintf("d%d", i)
					won <- id
					return insertDevice(ctx, tx, id, id)
				})
				if err != nil {
					errs <- err
				}
			}()
			go func() {
				defer wg.Done()
				var n int
				if err := db.QueryRow(ctx, "SELECT seats_used FROM licenses WHERE id = ?", "l1").Scan(&n); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		close(won)
		for err := range errs {
			t.Errorf("concurrent access: %v", err)
		}
		if len(won) != seats {
			t.Errorf("%d writers got a seat, want %d", len(won), seats)
		}
		var used, devices int
		if err := db.QueryRow(ctx, "SELECT seats_used, (SELECT COUNT(*) FROM devices) FROM licenses WHERE id = ?", "l1").Scan(&used, &devices); err != nil {
			t.Fatal(err)
		}
		if used != seats || devices != seats {
			t.Errorf("seats_used = %d, devices = %d; want %d each", used, devices, seats)
		}
	})
}

func TestRebind(t *testing.T) {
	tests := []struct {
		d    store.Dialect
		in   string
		want string
	}{
		{store.SQLite, "a = ? AND b = ?", "a = ? AND b = ?"},
		{store.Postgres, "a = ? AND b = ?", "a = $1 AND b = $2"},
		{store.Postgres, "no params", "no params"},
	}
	for _, tc := range tests {
		t.Run(string(tc.d)+" "+tc.in, func(t *testing.T) {
			db := storetest.Open(t, tc.d)
			if got := db.Rebind(tc.in); got != tc.want {
				t.Fatalf("Rebind(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
