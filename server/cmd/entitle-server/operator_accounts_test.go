package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestOperatorGrantRevoke: `operator grant|revoke EMAIL` opens and closes the
// console's operator pages to an account, one journal row each (granting or
// revoking twice writes none), in English and French; an unknown email is
// refused in words.
func TestOperatorGrantRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		t.Setenv("ENTITLE_LANG", "en")
		dsn := storetest.DSN(t, d)
		run := func(args ...string) string {
			t.Helper()
			out, err := runIn(t, dsn, "correct horse battery\n", args...)
			if err != nil {
				t.Fatalf("%v: %v\n%s", args, err, out)
			}
			return out
		}
		rows := func(action string) int {
			t.Helper()
			db, err := store.Open(context.Background(), dsn, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var n int
			if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_events WHERE action = ?", action).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		run("account", "create", "--email", "vendor@example.com", "--password-stdin")
		if out := run("operator", "grant", "Vendor@example.com"); !strings.Contains(out, "is now an operator") {
			t.Fatalf("grant = %q", out)
		}
		run("operator", "grant", "vendor@example.com")
		if n := rows("operator.account.grant"); n != 1 {
			t.Errorf("%d grant rows, want 1", n)
		}
		t.Setenv("ENTITLE_LANG", "fr")
		if out := run("operator", "revoke", "vendor@example.com"); !strings.Contains(out, "n’est plus opérateur") {
			t.Fatalf("revoke = %q", out)
		}
		run("operator", "revoke", "vendor@example.com")
		if n := rows("operator.account.revoke"); n != 1 {
			t.Errorf("%d revoke rows, want 1", n)
		}
		if out, err := runIn(t, dsn, "", "operator", "grant", "nobody@example.com"); err == nil || !strings.Contains(err.Error(), "introuvable") {
			t.Errorf("grant to an unknown email: %v\n%s", err, out)
		}
	})
}
