// Package storetest runs a test once per supported database: SQLite in a
// temporary file and PostgreSQL through testenv.PostgresDB, so every storage
// behaviour is checked on both dialects.
package storetest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/server/store"
)

// DSN returns a fresh, empty database of the given dialect for t.
func DSN(t testing.TB, d store.Dialect) string {
	t.Helper()
	switch d {
	case store.SQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "entitle.db")
	case store.Postgres:
		return testenv.PostgresDB(t)
	}
	t.Fatalf("storetest: unknown dialect %q", d)
	return ""
}

// Open opens (and migrates) a fresh database of dialect d, closed when t ends.
func Open(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, DSN(t, d), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open %s database: %v", d, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close %s database: %v", d, err)
		}
	})
	return db
}

// Dialects lists the dialects every storage test runs on.
func Dialects() []store.Dialect { return []store.Dialect{store.SQLite, store.Postgres} }

// Each runs fn as one subtest per dialect, named after it.
func Each(t *testing.T, fn func(t *testing.T, d store.Dialect)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) { fn(t, d) })
	}
}

// EachBench runs fn as one sub-benchmark per dialect.
func EachBench(b *testing.B, fn func(b *testing.B, d store.Dialect)) {
	b.Helper()
	for _, d := range Dialects() {
		b.Run(string(d), func(b *testing.B) { fn(b, d) })
	}
}
