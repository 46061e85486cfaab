package devices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/entitle/entitle/server/signing"
	"github.com/entitle/entitle/server/store"
)

// Group commit of check-ins. A check-in's write is one UPDATE ... RETURNING
// (checkinUpdateSQLite, checkinUpdatePostgres); done one per transaction, the
// transaction's begin, commit and log write cost about as much as the
// statement. The batcher, owned by the Service and stopped by Close, collects
// the check-ins waiting (up to CheckinBatch of them: those that queued while
// the previous batch was written, plus, with CheckinWait, those that come
// within that wait) and writes them in one transaction:
// on SQLite, one statement per check-in on the single writer; on PostgreSQL,
// one statement for the whole batch (UPDATE ... FROM (VALUES ...)
// RETURNING), with several batches in flight (PostgreSQL commits them in
// parallel; SQLite's single writer takes one). A check-in is answered only once its batch has committed, so
// an answered check-in is as durable as before. Should the batch fail as a
// whole, each of its check-ins is written again on its own, so one failing
// check-in fails no other. Signing and building the answers happen in the
// callers' goroutines, after the commit and outside the write lock.

// Defaults of the batcher.
const (
	DefaultCheckinBatch = 128
)

// checkinArgs are the arguments of one check-in's write, in the order of
// the single-row statements.
type checkinArgs struct {
	now                              int64
	hostname, os, arch, agentVersion string
	profiles                         any // column.JSON or nil
	deviceID, credentialHash         string
	fingerprint                      string
}

func (a checkinArgs) values() []any {
	return []any{a.now, a.hostname, a.os, a.arch, a.agentVersion, a.profiles, a.deviceID, a.credentialHash, a.fingerprint, a.now, a.now, false}
}

// checkinResult is what the write returns for the lease: found is false
// when the statement matched no row (the slow path tells why).
type checkinResult struct {
	found             bool
	deviceID, product string
	openCommands      int
	features          string
	termEnd           sql.NullInt64
	lic               signing.License
	licenseRow        string // SQLite: licenseRowSQLite's value
}

func (r *checkinResult) dest() []any {
	return []any{&r.deviceID, &r.product, &r.openCommands, &r.lic.ID, &r.lic.Plan, &r.features, &r.lic.MaxProfiles, &r.termEnd, &r.lic.Subscription, &r.lic.Mgmt, &r.lic.OwnerEmail}
}

// destSQLite is dest for checkinUpdateSQLite.
func (r *checkinResult) destSQLite() []any {
	return []any{&r.deviceID, &r.product, &r.openCommands, &r.lic.ID, &r.licenseRow}
}

type checkinItem struct {
	args checkinArgs
	res  checkinResult
	err  error
	done chan struct{}
}

// errBatcherClosed is what submit returns once Close has begun; the caller
// writes its check-in on its own.
var errBatcherClosed = errors.New("check-in batcher closed")

type batcher struct {
	db      *store.DB
	max     int
	wait    time.Duration
	mu      sync.RWMutex // guards closed and sends on in against Close
	closed  bool
	in      chan *checkinItem
	workers sync.WaitGroup
	batches atomic.Int64 // transactions written, for tests
}

func newBatcher(db *store.DB, max int, wait time.Duration, workers int) *batcher {
	b := &batcher{db: db, max: max, wait: wait, in: make(chan *checkinItem, 4*max)}
	for range workers {
		b.workers.Add(1)
		go b.run()
	}
	return b
}

// submit queues a check-in and waits until its batch has committed. A
// caller whose context ends stops waiting; its check-in is still written.
func (b *batcher) submit(ctx context.Context, it *checkinItem) error {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return errBatcherClosed
	}
	b.in <- it
	b.mu.RUnlock()
	select {
	case <-it.done:
		return it.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops taking check-ins, writes the queued ones and returns when the
// last batch has committed.
func (b *batcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.in)
	}
	b.mu.Unlock()
	b.workers.Wait()
}

func (b *batcher) run() {
	defer b.workers.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	batch := make([]*checkinItem, 0, b.max)
	for {
		it, ok := <-b.in
		if !ok {
			return
		}
		batch = append(batch[:0], it)
		open := b.fill(&batch, timer)
		b.write(batch)
		if !open {
			// Drain what Close left queued.
			for it := range b.in {
				batch = append(batch[:0], it)
				for len(batch) < b.max {
					next, ok := <-b.in
					if !ok {
						break
					}
					batch = append(batch, next)
				}
				b.write(batch)
			}
			return
		}
	}
}

// fill adds to batch what is queued, then waits up to b.wait for more, up to
// b.max. It reports false when the queue was closed.
func (b *batcher) fill(batch *[]*checkinItem, timer *time.Timer) bool {
	for len(*batch) < b.max {
		select {
		case it, ok := <-b.in:
			if !ok {
				return false
			}
			*batch = append(*batch, it)
			continue
		default:
		}
		break
	}
	if len(*batch) >= b.max || b.wait <= 0 {
		return true
	}
	timer.Reset(b.wait)
	defer timer.Stop()
	for len(*batch) < b.max {
		select {
		case it, ok := <-b.in:
			if !ok {
				return false
			}
			*batch = append(*batch, it)
		case <-timer.C:
			return true
		}
	}
	return true
}

// write commits a batch and answers its check-ins.
func (b *batcher) write(batch []*checkinItem) {
	ctx := context.Background()
	b.batches.Add(1)
	if len(batch) == 1 {
		// Alone: the single statement, in autocommit.
		it := batch[0]
		it.res, it.err = writeOne(ctx, b.db, it.args)
		close(it.done)
		return
	}
	var err error
	if b.db.Dialect() == store.Postgres {
		err = b.db.InTx(ctx, func(tx *store.Tx) error { return writePostgresBatch(ctx, tx, batch) })
	} else {
		err = b.db.InTx(ctx, func(tx *store.Tx) error {
			for _, it := range batch {
				it.res, it.err = checkinResult{}, nil
				it.err = tx.WritePoint(ctx, checkinUpdateSQLite, it.res.destSQLite(), it.args.values()...)
				it.res.found = it.err == nil
				if errors.Is(it.err, sql.ErrNoRows) {
					it.err = nil
				}
			}
			return nil
		})
	}
	if err != nil {
		// The batch failed as a whole: write each check-in on its own, so
		// that one bad check-in fails only itself.
		for _, it := range batch {
			it.res, it.err = writeOne(ctx, b.db, it.args)
		}
	}
	for _, it := range batch {
		close(it.done)
	}
}

// writeOne is a check-in's write in its own statement.
func writeOne(ctx context.Context, db *store.DB, a checkinArgs) (checkinResult, error) {
	var r checkinResult
	query, dest := checkinUpdateSQLite, r.destSQLite()
	if db.Dialect() == store.Postgres {
		query, dest = checkinUpdatePostgres, r.dest()
	}
	err := db.WritePoint(ctx, query, dest, a.values()...)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	}
	r.found = err == nil
	return r, err
}

// writePostgresBatch writes a batch in one statement. A device named twice
// in one batch is updated once: the other check-in finds no row returned and
// takes the slow path, which records it on its own.
func writePostgresBatch(ctx context.Context, tx *store.Tx, batch []*checkinItem) error {
	var sb strings.Builder
	sb.WriteString(`UPDATE devices d SET last_seen_at = v.now,
	hostname = COALESCE(NULLIF(v.hostname, ''), d.hostname), os = COALESCE(NULLIF(v.os, ''), d.os),
	arch = COALESCE(NULLIF(v.arch, ''), d.arch), agent_version = COALESCE(NULLIF(v.agent_version, ''), d.agent_version),
	profiles = COALESCE(v.profiles, d.profiles)
	FROM (VALUES `)
	args := make([]any, 0, 10*len(batch))
	for i, it := range batch {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))")
		a := it.args
		args = append(args, i, a.now, a.hostname, a.os, a.arch, a.agentVersion, a.profiles, a.deviceID, a.credentialHash, a.fingerprint)
		it.res, it.err = checkinResult{}, nil
	}
	sb.WriteString(`) AS v(idx, now, hostname, os, arch, agent_version, profiles, device_id, credential_hash, fingerprint),
	licenses l JOIN accounts a ON a.id = l.owner_account_id
	WHERE d.id = v.device_id AND d.credential_hash = v.credential_hash AND d.fingerprint = v.fingerprint AND d.deactivated_at IS NULL AND d.suspended_at IS NULL AND l.id = d.license_id
	AND l.term_start <= v.now AND (l.term_end IS NULL OR l.term_end > v.now) AND l.suspended = FALSE AND l.revoked_at IS NULL
	RETURNING v.idx, d.id, d.product, d.open_commands, l.id, l.plan, l.features, l.max_profiles, l.term_end, l.subscription, l.management_mode, a.email`)
	rows, err := tx.Query(ctx, sb.String(), args...)
	if err != nil {
		return fmt.Errorf("record %d check-ins: %w", len(batch), err)
	}
	defer rows.Close()
	for rows.Next() {
		var idx int
		var r checkinResult
		if err := rows.Scan(append([]any{&idx}, r.dest()...)...); err != nil {
			return fmt.Errorf("record check-ins: %w", err)
		}
		if idx < 0 || idx >= len(batch) {
			return fmt.Errorf("record check-ins: row %s out of the batch", strconv.Itoa(idx))
		}
		r.found = true
		batch[idx].res = r
	}
	return rows.Err()
}
