package store_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestTxSurvivesCancelledRequest cancels the request context in the middle
// of a transaction: the transaction still runs to its commit (or its
// rollback) cleanly, and the pooled connection it ran on stays open and
// usable.
func TestTxSurvivesCancelledRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		logs := &testenv.Buffer{}
		db, err := store.OpenWith(context.Background(), storetest.DSN(t, d),
			store.Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), WriteTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		bg := context.Background()
		if _, err := db.Exec(bg, "CREATE TABLE detach_t (id INTEGER PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		pause := "SELECT 1"
		if d == store.Postgres {
			pause = "SELECT pg_sleep(0.05)"
		}
		openBefore := db.WritePoolStats().OpenConnections

		// Commit after the cancel.
		ctx, cancel := context.WithCancel(bg)
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO detach_t (id) VALUES (1)"); err != nil {
				return err
			}
			cancel() // the client disconnects
			time.Sleep(20 * time.Millisecond)
			if _, err := tx.Exec(ctx, pause); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO detach_t (id) VALUES (2)")
			return err
		})
		if err != nil {
			t.Fatalf("transaction cancelled mid-way: %v", err)
		}

		// Roll back after the cancel.
		ctx, cancel = context.WithCancel(bg)
		boom := errors.New("boom")
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO detach_t (id) VALUES (3)"); err != nil {
				return err
			}
			cancel()
			time.Sleep(20 * time.Millisecond)
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}

		// A write statement outside a transaction, with an already cancelled
		// context, runs too: the handler had decided to write.
		if _, err := db.Exec(ctx, "INSERT INTO detach_t (id) VALUES (4)"); err != nil {
			t.Fatalf("Exec with a cancelled context: %v", err)
		}
		// A transaction not yet begun when the request is gone is not begun.
		if err := db.InTx(ctx, func(*store.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Fatalf("InTx on a cancelled context = %v, want context.Canceled", err)
		}

		var ids []int
		rows, err := db.Query(bg, "SELECT id FROM detach_t ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if got := len(ids); got != 3 || ids[0] != 1 || ids[1] != 2 || ids[2] != 4 {
			t.Fatalf("rows = %v, want [1 2 4]", ids)
		}
		if strings.Contains(logs.String(), "rollback failed") {
			t.Fatalf("rollback failed:\n%s", logs.String())
		}
		st := db.WritePoolStats()
		if st.OpenConnections < openBefore || st.OpenConnections == 0 {
			t.Fatalf("write pool lost a connection: %d open, %d before", st.OpenConnections, openBefore)
		}
		if err := db.InTx(bg, func(tx *store.Tx) error {
			_, err := tx.Exec(bg, "INSERT INTO detach_t (id) VALUES (5)")
			return err
		}); err != nil {
			t.Fatalf("pool unusable after the cancelled transactions: %v", err)
		}
	})
}
