// Package store opens the licensing server's database, PostgreSQL or SQLite,
// runs its embedded migrations, and gives the licensing logic a small
// dialect-neutral query surface: queries are written once with "?"
// placeholders and rebound for PostgreSQL.
//
// SQLite is opened as two pools on the same file: a single-connection pool
// that every write transaction goes through, and a read-only pool for plain
// reads. Serializing writers inside the process means SQLite's own lock is
// never contended by this process, so callers never see SQLITE_BUSY; the
// busy_timeout and BEGIN IMMEDIATE only matter for other processes (such as a
// `migrate` run) touching the same file.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names a supported database.
type Dialect string

// Supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

//go:embed migrations
var migrations embed.FS

// DB is an open database. It is safe for concurrent use.
type DB struct {
	dialect Dialect
	write   *sql.DB // SQLite: one connection; PostgreSQL: the same pool as read
	read    *sql.DB
	logger  *slog.Logger

	writeTimeout time.Duration // see detach

	path string        // SQLite file
	ckpt *checkpointer // SQLite: periodic checkpoint, stopped by Close
}

// target is a parsed DSN.
type target struct {
	dialect Dialect
	conn    string // driver connection string (PostgreSQL URL or SQLite path)
}

func parseDSN(dsn string) (target, error) {
	dsn = strings.TrimSpace(dsn)
	switch {
	case dsn == "":
		return target{}, errors.New("database: empty DSN; use a postgres:// URL or a SQLite file path")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return target{dialect: Postgres, conn: dsn}, nil
	}
	path := dsn
	for _, p := range []string{"sqlite://", "sqlite3://", "sqlite:", "sqlite3:", "file:"} {
		if strings.HasPrefix(path, p) {
			path = strings.TrimPrefix(path, p)
			break
		}
	}
	switch {
	case path == "":
		return target{}, fmt.Errorf("database %q: no SQLite file path", dsn)
	case path == ":memory:" || strings.Contains(path, "mode=memory"):
		return target{}, fmt.Errorf("database %q: in-memory SQLite is not supported (the server uses several connections); give a file path", dsn)
	case strings.ContainsAny(path, "?#"):
		return target{}, fmt.Errorf("database %q: SQLite path must not contain '?' or '#'", dsn)
	case strings.Contains(dsn, "://") && !strings.HasPrefix(dsn, "sqlite"):
		return target{}, fmt.Errorf("database %q: unsupported scheme; use postgres://, postgresql://, sqlite:PATH or a file path", dsn)
	}
	return target{dialect: SQLite, conn: path}, nil
}

// Open opens the database named by dsn (a postgres:// or postgresql:// URL, or
// a SQLite path, optionally prefixed "sqlite:") and migrates it to the
// current schema.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*DB, error) {
	return OpenWith(ctx, dsn, Options{Logger: logger})
}

// Options tune Open. The zero value takes the defaults.
type Options struct {
	Logger *slog.Logger
	// CheckpointInterval is how often SQLite's log is checkpointed
	// (default DefaultCheckpointInterval).
	CheckpointInterval time.Duration
	// WriteTimeout bounds a transaction or write statement, which runs
	// detached from its caller's cancellation (default DefaultWriteTimeout).
	WriteTimeout time.Duration
	// version stops the migrations at a version (0: all), for tests of a
	// migration over the data of the one before (OpenAt).
	version int64
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn string, o Options) (*DB, error) {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if err := migrateTo(ctx, t, logger, o.version); err != nil {
		return nil, err
	}
	db := &DB{dialect: t.dialect, logger: logger, writeTimeout: o.WriteTimeout}
	if db.writeTimeout <= 0 {
		db.writeTimeout = DefaultWriteTimeout
	}
	switch t.dialect {
	case Postgres:
		pool, err := sql.Open("pgx", t.conn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		pool.SetMaxOpenConns(4 * runtime.GOMAXPROCS(0))
		pool.SetMaxIdleConns(4 * runtime.GOMAXPROCS(0))
		pool.SetConnMaxIdleTime(5 * time.Minute)
		db.read, db.write = pool, pool
	case SQLite:
		db.path = t.conn
		wc, err := newSQLiteConnector(sqliteDSN(t.conn, "write"), DefaultStmtCacheSize)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", t.conn, err)
		}
		rc, err := newSQLiteConnector(sqliteDSN(t.conn, "read"), DefaultStmtCacheSize)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", t.conn, err)
		}
		w := sql.OpenDB(wc)
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		w.SetConnMaxIdleTime(0)
		r := sql.OpenDB(rc)
		n := max(4, runtime.GOMAXPROCS(0))
		r.SetMaxOpenConns(n)
		r.SetMaxIdleConns(n)
		db.read, db.write = r, w
	}
	if err := db.write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", t.dialect, err)
	}
	if err := db.read.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", t.dialect, err)
	}
	if t.dialect == SQLite {
		if db.ckpt, err = startCheckpointer(db, t.conn, o.CheckpointInterval); err != nil {
			db.Close()
			return nil, err
		}
	}
	logger.Info("database open", "dialect", string(t.dialect))
	return db, nil
}

// Migrate brings the database named by dsn to the current schema, for the
// `migrate` command. Open does the same on every start.
func Migrate(ctx context.Context, dsn string) error {
	t, err := parseDSN(dsn)
	if err != nil {
		return err
	}
	return migrateTo(ctx, t, slog.New(slog.DiscardHandler), 0)
}

// migrateTo applies the migrations up to version (0: all of them). It runs
// on its own short-lived connection pool: goose holds a connection for its
// lock while also using the pool, which would deadlock on the
// single-connection SQLite write pool.
func migrateTo(ctx context.Context, t target, logger *slog.Logger, version int64) error {
	var (
		driver  string
		conn    string
		dialect goose.Dialect
		opts    = []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	)
	switch t.dialect {
	case Postgres:
		driver, conn, dialect = "pgx", t.conn, goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case SQLite:
		if dir := filepath.Dir(t.conn); dir != "" {
			if _, err := os.Stat(dir); err != nil {
				return fmt.Errorf("sqlite database folder: %w", err)
			}
		}
		if err := prepareSQLiteFile(t.conn); err != nil {
			return err
		}
		driver, conn, dialect = "sqlite", sqliteDSN(t.conn, "write"), goose.DialectSQLite3
	}
	db, err := sql.Open(driver, conn)
	if err != nil {
		return fmt.Errorf("migrate: open %s: %w", t.dialect, err)
	}
	defer db.Close()
	if t.dialect == SQLite {
		db.SetMaxOpenConns(2)
	}
	sub, err := fs.Sub(migrations, "migrations/"+string(t.dialect))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(dialect, db, sub, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if version == 0 {
		version = goose.MaxVersion
	}
	results, err := p.UpTo(ctx, version)
	if err != nil {
		return fmt.Errorf("migrate %s database: %w", t.dialect, err)
	}
	for _, r := range results {
		logger.Info("migration applied", "version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

// WriteRow runs one write statement that returns a row (INSERT, UPDATE or
// DELETE ... RETURNING) outside a transaction, scans its first row into
// dest and runs it to completion. It returns sql.ErrNoRows when the
// statement returned no row. Never read such a statement with QueryRow.
func (db *DB) WriteRow(ctx context.Context, query string, dest []any, args ...any) error {
	ctx, cancel := db.detach(ctx)
	defer cancel()
	return writeRow(ctx, db.write, db.Rebind(query), dest, args)
}

// WritePoint is WriteRow for a point write on a hot path (the check-in's
// UPDATE ... RETURNING on one row by a unique key). On SQLite it runs under
// a context that cannot end (hotContext): the driver's cancellation watcher
// (a goroutine and a progress handler per statement) costs such a statement
// more than its own bookkeeping, and the statement is bounded without it (a
// point write on the single writer, whose wait for the database lock
// busy_timeout bounds). Elsewhere it is WriteRow.
func (db *DB) WritePoint(ctx context.Context, query string, dest []any, args ...any) error {
	ctx, cancel := db.hotContext(ctx)
	defer cancel()
	return writeRow(ctx, db.write, db.Rebind(query), dest, args)
}

// querier is what writeRow runs on: a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// writeRow runs query on q, scans its first row into dest and runs it to
// completion (scanOne).
func writeRow(ctx context.Context, q querier, query string, dest, args []any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	return scanOne(rows, dest)
}

// Close closes the database.
func (db *DB) Close() error {
	var errs []error
	if db.ckpt != nil {
		errs = append(errs, db.ckpt.close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	if db.read != nil && db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	return errors.Join(errs...)
}

// Dialect reports which database is open.
func (db *DB) Dialect() Dialect { return db.dialect }

// ForUpdate is appended to a SELECT inside a transaction to lock the selected
// rows until commit. SQLite needs nothing: its write transactions are already
// serialized.
func (db *DB) ForUpdate() string {
	if db.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// Rebind rewrites "?" placeholders for the open dialect. Queries must not
// contain a literal question mark.
func (db *DB) Rebind(query string) string {
	if db.dialect != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var sb strings.Builder
	sb.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(n))
			continue
		}
		sb.WriteByte(query[i])
	}
	return sb.String()
}

// QueryRow runs a read on the read pool.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return db.read.QueryRowContext(ctx, db.Rebind(query), args...)
}

// Query runs a read on the read pool.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return db.read.QueryContext(ctx, db.Rebind(query), args...)
}

// Exec runs a single write statement outside a transaction (autocommit),
// detached from ctx's cancellation (see detach).
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx, cancel := db.detach(ctx)
	defer cancel()
	return db.write.ExecContext(ctx, db.Rebind(query), args...)
}

// Tx is a write transaction. Its statements run under the transaction's own
// context (InTx), whatever context they are given, so a cancelled request
// cannot stop a transaction half-way.
type Tx struct {
	tx  *sql.Tx
	db  *DB
	ctx context.Context
}

// QueryRow runs a query in the transaction. A statement with RETURNING goes
// through WriteRow instead (TestNoQueryRowOnReturning holds the code to it).
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(tx.ctx, tx.db.Rebind(query), args...)
}

// WriteRow runs a write statement that returns a row (INSERT, UPDATE or
// DELETE ... RETURNING) in the transaction, scans its first row into dest
// and runs it to completion. It returns sql.ErrNoRows when the statement
// returned no row.
func (tx *Tx) WriteRow(ctx context.Context, query string, dest []any, args ...any) error {
	return writeRow(tx.ctx, tx.tx, tx.db.Rebind(query), dest, args)
}

// WritePoint is WriteRow for a point write on a hot path (DB.WritePoint):
// on SQLite the statement runs without the driver's watcher; the
// transaction keeps its deadline.
func (tx *Tx) WritePoint(ctx context.Context, query string, dest []any, args ...any) error {
	sctx := tx.ctx
	if tx.db.dialect == SQLite {
		sctx = context.WithoutCancel(tx.ctx)
	}
	return writeRow(sctx, tx.tx, tx.db.Rebind(query), dest, args)
}

// Query runs a query in the transaction.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(tx.ctx, tx.db.Rebind(query), args...)
}

// Exec runs a statement in the transaction.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(tx.ctx, tx.db.Rebind(query), args...)
}

// ExecAffected runs a statement and returns the number of rows it changed.
func (tx *Tx) ExecAffected(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := tx.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ForUpdate is DB.ForUpdate.
func (tx *Tx) ForUpdate() string { return tx.db.ForUpdate() }

// Dialect is DB.Dialect.
func (tx *Tx) Dialect() Dialect { return tx.db.dialect }

// DefaultWriteTimeout bounds a transaction or a write statement.
const DefaultWriteTimeout = 15 * time.Second

// detach returns the context a write runs under: ctx's values without its
// cancellation, bounded by the DB's write timeout. A client that disconnects
// mid-request cancels its request context; were that the transaction's
// context, database/sql would roll the transaction back half-way and pgx
// would close the pooled connection under it ("rollback failed: conn
// closed"). Writes are short and bounded, so they run to their end instead.
func (db *DB) detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), db.writeTimeout)
}

// hotContext is the context of a point write (WritePoint): on
// SQLite, ctx's values without its cancellation and without a deadline, so
// the driver watches nothing; elsewhere detach.
func (db *DB) hotContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if db.dialect == SQLite {
		return context.WithoutCancel(ctx), func() {}
	}
	return db.detach(ctx)
}

// InTx runs fn in a write transaction, committing if fn returns nil and rolling
// back otherwise; fn's error is returned as is so callers can match it. The
// transaction runs detached from ctx's cancellation under its own timeout
// (detach): once begun, it commits or rolls back cleanly.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tctx, cancel := db.detach(ctx)
	defer cancel()
	sqlTx, err := db.write.BeginTx(tctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx := &Tx{tx: sqlTx, db: db, ctx: tctx}
	if err := fn(tx); err != nil {
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			db.logger.Warn("rollback failed", "err", rbErr)
		}
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint violation.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// Millis converts a time to the stored representation, Unix milliseconds.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// FromMillis converts a stored time back; 0 stays the zero time.
func FromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
