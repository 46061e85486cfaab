package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"
)

// SQLite's write-ahead log is kept small by three things together:
//
//   - every statement runs to completion (WriteRow, WritePoint; Exec does
//     by nature): SQLite's automatic checkpoint only runs when an autocommit
//     statement completes, so a RETURNING read with a single-row scan, reset
//     before it finishes, lets the log grow without limit;
//   - wal_autocheckpoint: after a commit that leaves more than
//     walAutocheckpointPages pages in the log, the committing connection
//     copies them back into the database, and the next writer starts the log
//     over from its beginning;
//   - a checkpointer goroutine owned by the DB: every CheckpointInterval a
//     PASSIVE checkpoint on its own connection (it does not stop writers), and
//     a TRUNCATE checkpoint when the -wal file is still over WALTargetBytes
//     (after a long reader held the log, for example), which empties the file.
//
// journal_size_limit caps what a reset log keeps on disk.
const (
	// WALTargetBytes is the size the -wal file is kept under. In steady
	// state it stays near walAutocheckpointPages pages (about 4 MiB).
	WALTargetBytes = 16 << 20
	// DefaultCheckpointInterval is how often the checkpointer runs.
	DefaultCheckpointInterval = 30 * time.Second

	walAutocheckpointPages = 1000
	// cache_size is in KiB when negative: 4 MiB for the writer, 16 MiB for
	// each reader. mmap_size maps the database file (up to 1 GiB; the
	// benchmark's 1M devices make a 580 MB file) so that reads of pages
	// that are not in the log come straight from the OS page cache and take
	// no place in a connection's cache: the writer's cache holds the pages
	// it writes and those it reads back from the log.
	//
	// The writer's cache is kept small on purpose. When a b-tree page
	// splits into pages out of page-number order, SQLite swaps them
	// through a scratch number, the lock-byte page (1 GiB / page size + 1),
	// which leaves that key as the cache's highest; the commit then
	// truncates the cache to the database's size and, the key being far
	// past it, walks the whole cache to do so (pcache1TruncateUnsafe).
	// On a database under 1 GiB that walk costs each such commit time in
	// proportion to the cache's size: with 32 MiB it was a tenth of an
	// activation's CPU at 1M devices, with 256 MiB it halved the rate. 4 MiB
	// (about 1,000 pages) still holds a whole check-in batch's dirty pages
	// (DefaultCheckinBatch check-ins dirty a few hundred) without spilling.
	writerCacheKiB = 4 << 10
	readerCacheKiB = 16 << 10
	mmapBytes      = 1 << 30
	// checkpointBusyMillis bounds how long a TRUNCATE checkpoint waits for
	// readers; writers wait behind it at most that long.
	checkpointBusyMillis = 1000
)

// sqliteDSN builds the modernc.org/sqlite connection string for a role:
// "write" (the single writer), "read" (query-only) or "checkpoint".
// synchronous=NORMAL in WAL mode keeps every commit atomic and crash-safe for
// the process; only an OS crash or power loss can lose the last commits,
// which is the trade the check-in throughput needs.
func sqliteDSN(path, role string) string {
	busy := 10000
	if role == "checkpoint" {
		busy = checkpointBusyMillis
	}
	q := "?_pragma=busy_timeout(" + strconv.Itoa(busy) + ")&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=mmap_size(" + strconv.Itoa(mmapBytes) + ")"
	switch role {
	case "read":
		q += "&_pragma=query_only(1)&_pragma=cache_size(-" + strconv.Itoa(readerCacheKiB) + ")"
	case "write":
		q += "&_txlock=immediate&_pragma=cache_size(-" + strconv.Itoa(writerCacheKiB) + ")" +
			"&_pragma=wal_autocheckpoint(" + strconv.Itoa(walAutocheckpointPages) + ")" +
			"&_pragma=journal_size_limit(" + strconv.Itoa(WALTargetBytes) + ")"
	case "checkpoint":
		q += "&_pragma=journal_size_limit(" + strconv.Itoa(WALTargetBytes) + ")"
	}
	return path + q
}

// sqliteFileMode is the mode of the database file. It holds the signing keys,
// so only the server's user may read it; SQLite gives the -wal and -shm files
// the mode of the database file.
const sqliteFileMode fs.FileMode = 0o600

// prepareSQLiteFile creates the database file with mode 0600 before SQLite
// opens it (SQLite would create it 0644 under the usual umask), and takes
// group and other permissions away from an existing file and its -wal and
// -shm companions.
func prepareSQLiteFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, sqliteFileMode)
	if err != nil {
		return fmt.Errorf("sqlite database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sqlite database file: %w", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite database file: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&^0o077); err != nil {
				return fmt.Errorf("sqlite database file: restrict permissions: %w", err)
			}
		}
	}
	return nil
}

// checkpointer runs the periodic checkpoint of a SQLite database. Close
// stops it and waits for it.
type checkpointer struct {
	db       *sql.DB // one connection of its own
	walPath  string
	interval time.Duration
	cancel   context.CancelFunc
	done     chan struct{}
	once     sync.Once
}

func startCheckpointer(db *DB, path string, interval time.Duration) (*checkpointer, error) {
	if interval <= 0 {
		interval = DefaultCheckpointInterval
	}
	conn, err := sql.Open("sqlite", sqliteDSN(path, "checkpoint"))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	conn.SetMaxOpenConns(1)
	conn.SetMaxIdleConns(1)
	conn.SetConnMaxLifetime(0)
	conn.SetConnMaxIdleTime(0)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: conn, walPath: path + "-wal", interval: interval, cancel: cancel, done: make(chan struct{})}
	go c.run(ctx, db)
	return c, nil
}

func (c *checkpointer) run(ctx context.Context, db *DB) {
	defer close(c.done)
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := c.checkpoint(ctx); err != nil && ctx.Err() == nil {
			db.logger.Warn("sqlite checkpoint failed", "err", err)
		}
	}
}

// checkpoint runs a PASSIVE checkpoint, then a TRUNCATE one if the log file
// is still over WALTargetBytes.
func (c *checkpointer) checkpoint(ctx context.Context) error {
	if err := c.run1(ctx, "PASSIVE"); err != nil {
		return err
	}
	fi, err := os.Stat(c.walPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("wal size: %w", err)
	}
	if fi.Size() <= WALTargetBytes {
		return nil
	}
	return c.run1(ctx, "TRUNCATE")
}

func (c *checkpointer) run1(ctx context.Context, mode string) error {
	var busy, logPages, done int
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &logPages, &done); err != nil {
		return fmt.Errorf("wal_checkpoint(%s): %w", mode, err)
	}
	return nil
}

func (c *checkpointer) close() error {
	var err error
	c.once.Do(func() {
		c.cancel()
		<-c.done
		err = c.db.Close()
	})
	return err
}

// Path returns the SQLite database file, or "" on PostgreSQL.
func (db *DB) Path() string { return db.path }

// Checkpoint runs the periodic checkpoint now (SQLite; nothing on
// PostgreSQL), for operators and tests.
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.ckpt == nil {
		return nil
	}
	return db.ckpt.checkpoint(ctx)
}

// scanOne scans the first row of rows into dest and reads the rest, so the
// statement runs to completion before it is reset: SQLite's automatic
// checkpoint runs only when an autocommit statement completes. It returns
// sql.ErrNoRows when there is no row.
func scanOne(rows *sql.Rows, dest []any) error {
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}
