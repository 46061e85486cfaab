package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"fmt"

	"modernc.org/sqlite"
)

// The SQLite statement cache. modernc.org/sqlite parses a query's text every
// time database/sql runs it without a prepared statement, and most of the
// server's queries run that way (in transactions, where a *sql.Stmt of the
// pool cannot be prepared: on SQLite the transaction holds the writer's only
// connection). Parsing was a quarter of an activation's CPU. The connector
// below gives every connection a bounded cache of its prepared statements,
// keyed by the query's text, so each distinct query is parsed once per
// connection, whatever API runs it. PostgreSQL needs none: pgx keeps its own
// per-connection cache of prepared statements.
//
// database/sql serializes the calls on one driver connection, so the cache
// needs no lock. A statement whose rows are still open (a query run again
// while its first result is being read, which a transaction allows) is
// busy: the second run goes uncached rather than reset the first.

// DefaultStmtCacheSize bounds each connection's cache. The server's queries
// are mostly constants (a few hundred); the queries built at run time
// (filters, IN lists) take the least recently used places.
const DefaultStmtCacheSize = 256

// sqliteConnector opens modernc.org/sqlite connections wrapped with a
// statement cache (sql.OpenDB takes it; no driver is registered globally).
type sqliteConnector struct {
	base driver.Connector
	size int
}

func newSQLiteConnector(dsn string, size int) (*sqliteConnector, error) {
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite connection string: %w", err)
	}
	return &sqliteConnector{base: base, size: size}, nil
}

// sqliteConn is what the cache needs of the driver's connection.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// Connect opens one connection.
func (c *sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := dc.(sqliteConn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("sqlite: connection type %T lacks the context interfaces", dc)
	}
	return &cachedConn{sqliteConn: inner, max: c.size, byQuery: make(map[string]*list.Element)}, nil
}

// Driver is the underlying driver.
func (c *sqliteConnector) Driver() driver.Driver { return c.base.Driver() }

// contextStmt is what the cache needs of the driver's statement.
type contextStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachedStmt is one prepared statement of the cache.
type cachedStmt struct {
	query string
	stmt  contextStmt
	busy  bool // its rows are open
}

// cachedConn is a connection with its statement cache (least recently used
// at the back of lru).
type cachedConn struct {
	sqliteConn
	max     int
	lru     list.List
	byQuery map[string]*list.Element
}

// take returns the cached statement of query, preparing it on a miss, marked
// busy; nil when query must run uncached (its statement is busy, or it does
// not prepare: the uncached run reports why).
func (c *cachedConn) take(ctx context.Context, query string) *cachedStmt {
	if c.max <= 0 {
		return nil
	}
	if el, ok := c.byQuery[query]; ok {
		cs := el.Value.(*cachedStmt)
		if cs.busy {
			return nil
		}
		c.lru.MoveToFront(el)
		cs.busy = true
		return cs
	}
	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	st, ok := ds.(contextStmt)
	if !ok {
		_ = ds.Close()
		return nil
	}
	for c.lru.Len() >= c.max {
		if !c.evictOne() {
			// Every cached statement is busy: run this one once, uncached.
			_ = st.Close()
			return nil
		}
	}
	cs := &cachedStmt{query: query, stmt: st, busy: true}
	c.byQuery[query] = c.lru.PushFront(cs)
	return cs
}

// evictOne closes the least recently used statement that is not busy.
func (c *cachedConn) evictOne() bool {
	for el := c.lru.Back(); el != nil; el = el.Prev() {
		cs := el.Value.(*cachedStmt)
		if cs.busy {
			continue
		}
		c.lru.Remove(el)
		delete(c.byQuery, cs.query)
		_ = cs.stmt.Close()
		return true
	}
	return false
}

// ExecContext runs query through its cached statement.
func (c *cachedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs := c.take(ctx, query)
	if cs == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	defer func() { cs.busy = false }()
	return cs.stmt.ExecContext(ctx, args)
}

// QueryContext runs query through its cached statement; the statement stays
// busy until the rows are closed.
func (c *cachedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs := c.take(ctx, query)
	if cs == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		cs.busy = false
		return nil, err
	}
	return &cachedRows{Rows: rows, cs: cs}, nil
}

// Close closes the cached statements, then the connection.
func (c *cachedConn) Close() error {
	for el := c.lru.Front(); el != nil; el = el.Next() {
		_ = el.Value.(*cachedStmt).stmt.Close()
	}
	c.lru.Init()
	clear(c.byQuery)
	return c.sqliteConn.Close()
}

// cachedRows frees its statement for the next run when closed.
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if r.cs != nil {
		r.cs.busy = false
		r.cs = nil
	}
	return err
}
