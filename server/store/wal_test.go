package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/store"
)

func walSize(t testing.TB, db *store.DB) int64 {
	t.Helper()
	fi, err := os.Stat(db.Path() + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestWALBoundedUnderCheckins runs many thousands of check-ins through the
// complete server in process (HTTP handler, licensing service, SQLite) and
// checks that the -wal file never grows past store.WALTargetBytes. Before
// the check-in's UPDATE ... RETURNING ran to completion, SQLite never
// checkpointed and the log grew by about one page per check-in.
func TestWALBoundedUnderCheckins(t *testing.T) {
	e := apitest.Start(t, store.SQLite)
	lic := e.Account(t, "owner@example.com", "correct horse battery", 100, time.Time{})
	const devices, workers, checkins = 20, 8, 8000
	type dev struct {
		cred string
		req  protocol.CheckinRequest
	}
	devs := make([]dev, devices)
	for i := range devs {
		name := fmt.Sprintf("wal-%d", i)
		var act protocol.ActivateResponse
		req := protocol.ActivateRequest{Method: protocol.MethodLicenseKey, LicenseKey: lic.Key, Fingerprint: apitest.Fingerprint(name),
			Product: "entitle", Device: protocol.DeviceFacts{Hostname: name, OS: "linux", Arch: "amd64", AgentVersion: "test"}}
		if st := e.Do(t, "POST", protocol.PathActivations, "", req, &act); st != http.StatusCreated {
			t.Fatalf("activate %s: status %d", name, st)
		}
		devs[i] = dev{cred: act.Credential, req: protocol.CheckinRequest{Fingerprint: apitest.Fingerprint(name),
			Device: protocol.DeviceFacts{Hostname: name, OS: "linux"}, Profiles: &protocol.ProfileSummary{Total: 1, Valid: 1}}}
	}
	var next, maxWAL atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Bool
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				n := next.Add(1)
				if n > checkins {
					return
				}
				d := devs[n%devices]
				if st := e.Do(t, "POST", protocol.PathCheckin, d.cred, d.req, nil); st != http.StatusOK {
					t.Errorf("check-in %d: status %d", n, st)
					failed.Store(true)
					return
				}
				if n%100 == 0 {
					if s := walSize(t, e.DB); s > maxWAL.Load() {
						maxWAL.Store(s)
					}
				}
			}
		}()
	}
	wg.Wait()
	if s := walSize(t, e.DB); s > maxWAL.Load() {
		maxWAL.Store(s)
	}
	t.Logf("%d check-ins: largest -wal file seen %.1f MiB, at the end %.1f MiB", checkins,
		float64(maxWAL.Load())/(1<<20), float64(walSize(t, e.DB))/(1<<20))
	if m := maxWAL.Load(); m > store.WALTargetBytes {
		t.Fatalf("-wal file reached %d bytes after %d check-ins, over the %d-byte bound", m, checkins, store.WALTargetBytes)
	}
}

// TestWriteRowCompletes checks that WriteRow and WritePoint run an
// UPDATE ... RETURNING to completion, so SQLite's automatic checkpoint keeps
// the log small (a QueryRow read resets the statement before it completes,
// and the log then grows by a page per statement). In a transaction the
// COMMIT completes and checkpoints either way: the Tx.WriteRow case checks
// the helper's answers, not a fix.
func TestWriteRowCompletes(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		write func(db *store.DB, i int) error
	}{
		{"WriteRow", func(db *store.DB, i int) error {
			var n int64
			return db.WriteRow(ctx, "UPDATE licenses SET seats = ? WHERE id = 'l1' RETURNING seats", []any{&n}, 10+i%1000)
		}},
		{"WritePoint", func(db *store.DB, i int) error {
			var n int64
			return db.WritePoint(ctx, "UPDATE licenses SET seats = ? WHERE id = 'l1' RETURNING seats", []any{&n}, 10+i%1000)
		}},
		{"Tx.WriteRow", func(db *store.DB, i int) error {
			return db.InTx(ctx, func(tx *store.Tx) error {
				var n int64
				return tx.WriteRow(ctx, "UPDATE licenses SET seats = ? WHERE id = 'l1' RETURNING seats", []any{&n}, 10+i%1000)
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := store.OpenWith(ctx, "sqlite:"+filepath.Join(t.TempDir(), "e.db"), store.Options{CheckpointInterval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			seed(t, db, 10)
			// 2,000 single-page commits: without checkpoints, about 8 MiB of log.
			for i := range 2000 {
				if err := tc.write(db, i); err != nil {
					t.Fatal(err)
				}
			}
			if s := walSize(t, db); s > 6<<20 {
				t.Fatalf("-wal file is %d bytes after 2,000 one-row updates: the statements did not complete, SQLite never checkpointed", s)
			}
			var n int64
			err = db.WriteRow(ctx, "UPDATE licenses SET seats = 1 WHERE id = 'nope' RETURNING seats", []any{&n})
			if !errors.Is(err, sql.ErrNoRows) {
				t.Fatalf("WriteRow matching no row: %v, want sql.ErrNoRows", err)
			}
		})
	}
}

// TestCheckpointerTruncatesAfterLongReader holds a read transaction open (a
// backup, a slow report) while writes pile up in the log, which no automatic
// checkpoint can then reset; once the reader is gone, the DB's checkpointer
// empties the -wal file.
func TestCheckpointerTruncatesAfterLongReader(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	db, err := store.OpenWith(ctx, "sqlite:"+path, store.Options{CheckpointInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reader, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	rtx, err := reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := rtx.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	detail := `{"pad":"` + strings.Repeat("x", 64<<10) + `"}`
	for i := 0; store.WALTargetBytes > walSize(t, db); i++ {
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO settings (name, value) VALUES (?, ?)", fmt.Sprintf("pad-%d", i), detail)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rtx.Rollback(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for walSize(t, db) > store.WALTargetBytes {
		if time.Now().After(deadline) {
			t.Fatalf("-wal file still %d bytes 30 s after the reader ended", walSize(t, db))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSQLitePragmas checks the settings the log bound and large databases
// depend on, on the writer and on the readers.
func TestSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tests := []struct {
		pragma      string
		write, read int64 // -1: not checked on that pool
	}{
		{"journal_mode", -1, -1},
		{"wal_autocheckpoint", 1000, -1},
		{"journal_size_limit", store.WALTargetBytes, -1},
		{"cache_size", -4 << 10, -16 << 10},
		{"mmap_size", 1 << 30, 1 << 30},
		{"synchronous", 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.pragma, func(t *testing.T) {
			if tc.pragma == "journal_mode" {
				var mode string
				if err := db.QueryRow(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
					t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
				}
				return
			}
			var w, r int64
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.QueryRow(ctx, "PRAGMA "+tc.pragma).Scan(&w) }); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(ctx, "PRAGMA "+tc.pragma).Scan(&r); err != nil {
				t.Fatal(err)
			}
			if tc.write != -1 && w != tc.write {
				t.Errorf("writer: %s = %d, want %d", tc.pragma, w, tc.write)
			}
			if tc.read != -1 && r != tc.read {
				t.Errorf("reader: %s = %d, want %d", tc.pragma, r, tc.read)
			}
		})
	}
}
