// Package usage answers the console's overview: how an organization uses
// what it bought. Once a day it records every subscription's seats, assigned
// seats and active computers (seat_usage, the history the overview chart
// draws), and it sums up the present: seats used and free per plan,
// computers online, offline and suspended, licenses and certificates
// expiring soon, orders waiting.
//
// It reads the tables of other domains (subscriptions, plans, licenses,
// devices, workspaces, orders) and writes only its own (seat_usage,
// seat_usage_runs). Snapshots are bookkeeping, not an action of anyone: they
// write no journal row.
package usage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/entitle/entitle/server/store"
)

// Defaults of Config.
const (
	DefaultCheckinInterval = 15 * time.Minute
	DefaultBatch           = 500
	// ExpiryWindow is how far ahead the overview looks for licenses and
	// certificates coming to their end.
	ExpiryWindow = 30 * 24 * time.Hour
	// MaxHistoryDays bounds one History query.
	MaxHistoryDays = 731
	// DefaultRetention is how long snapshots are kept: past it, a day's
	// snapshot run deletes them.
	DefaultRetention = 3 * 366 * 24 * time.Hour
)

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	Now    func() time.Time // default time.Now
	Logger *slog.Logger
	// CheckinInterval is the agents' check-in interval (the server's
	// lease "chk"); a computer is online when seen within twice of it.
	// Default DefaultCheckinInterval.
	CheckinInterval time.Duration
	// Batch is how many organizations one snapshot transaction covers
	// (default DefaultBatch), so that thousands of organizations never
	// hold one long transaction.
	Batch int
	// Retention is how long snapshots are kept (default
	// DefaultRetention, at least MaxHistoryDays).
	Retention time.Duration
}

// Service is the usage domain over a store.DB.
type Service struct {
	db        *store.DB
	now       func() time.Time
	log       *slog.Logger
	interval  time.Duration
	batch     int
	retention time.Duration
}

// New returns a Service.
func New(db *store.DB, cfg Config) (*Service, error) {
	if db == nil {
		return nil, errors.New("usage: nil database")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CheckinInterval <= 0 {
		cfg.CheckinInterval = DefaultCheckinInterval
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	cfg.Retention = max(cfg.Retention, MaxHistoryDays*24*time.Hour)
	return &Service{db: db, now: cfg.Now, log: cfg.Logger, interval: cfg.CheckinInterval, batch: cfg.Batch,
		retention: cfg.Retention}, nil
}

// Day is the UTC calendar day of t, at 00:00 UTC: the key of a snapshot.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Run is one day's snapshot.
type Run struct {
	Day           time.Time
	Organizations int // organizations scanned
	Subscriptions int // rows written (inserted or replaced)
	Batches       int // transactions
	Pruned        int // rows deleted past the retention
}

// RunDue takes today's snapshot unless one finished today already: the
// background job calls it hourly, and at start, so a day is recorded once
// whatever the number of wake-ups or server instances (two instances racing
// write the same rows twice, which is harmless). It reports whether it ran.
func (s *Service) RunDue(ctx context.Context) (bool, error) {
	now := s.now()
	var n int
	err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM seat_usage_runs WHERE day = ?", store.Millis(Day(now))).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("usage: read runs: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	run, err := s.Snapshot(ctx, now)
	if err != nil {
		return false, err
	}
	s.log.Info("seat usage recorded", "day", run.Day.Format(time.DateOnly), "organizations", run.Organizations,
		"subscriptions", run.Subscriptions, "batches", run.Batches, "pruned", run.Pruned)
	return true, nil
}

// snapshotRows writes the rows of the subscriptions of the organizations in
// (after, last]: one row per live subscription, replacing the day's row when
// there is one (a re-run of the day).
const snapshotRows = `INSERT INTO seat_usage
	(organization_id, day, subscription_id, plan_id, seats, assigned, active_devices, taken_at)
	SELECT s.organization_id, CAST(? AS BIGINT), s.id, s.plan_id, s.seats, s.assigned,
		(SELECT COUNT(*) FROM licenses l JOIN devices d ON d.license_id = l.id
			WHERE l.subscription_id = s.id AND l.revoked_at IS NULL AND d.deactivated_at IS NULL),
		CAST(? AS BIGINT)
	FROM subscriptions s
	WHERE s.organization_id > ? AND s.organization_id <= ? AND s.term_start <= ? AND s.term_end > ?
	ON CONFLICT (organization_id, day, subscription_id) DO UPDATE SET
		plan_id = excluded.plan_id, seats = excluded.seats, assigned = excluded.assigned,
		active_devices = excluded.active_devices, taken_at = excluded.taken_at`

// Snapshot records the day of now for every organization's live
// subscriptions (term started, not ended), in keyset batches of
// organizations, one short transaction each, marks the day done and deletes
// the snapshots past the retention. Re-running a day replaces its rows.
func (s *Service) Snapshot(ctx context.Context, now time.Time) (Run, error) {
	run := Run{Day: Day(now)}
	day, at := store.Millis(run.Day), store.Millis(now)
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return run, fmt.Errorf("usage: snapshot %s: %w", run.Day.Format(time.DateOnly), err)
		}
		last, n, err := s.orgBatch(ctx, after)
		if err != nil {
			return run, err
		}
		if n == 0 {
			break
		}
		var written int64
		err = s.db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			written, err = tx.ExecAffected(ctx, snapshotRows, day, at, after, last, at, at)
			return err
		})
		if err != nil {
			return run, fmt.Errorf("usage: snapshot organizations after %q: %w", after, err)
		}
		run.Organizations += n
		run.Subscriptions += int(written)
		run.Batches++
		after = last
		if n < s.batch {
			break
		}
	}
	_, err := s.db.Exec(ctx, `INSERT INTO seat_usage_runs (day, started_at, finished_at, subscriptions) VALUES (?, ?, ?, ?)
		ON CONFLICT (day) DO UPDATE SET finished_at = excluded.finished_at, subscriptions = excluded.subscriptions`,
		day, at, store.Millis(s.now()), run.Subscriptions)
	if err != nil {
		return run, fmt.Errorf("usage: mark %s done: %w", run.Day.Format(time.DateOnly), err)
	}
	cutoff := store.Millis(Day(now.Add(-s.retention)))
	pruned, err := s.db.Exec(ctx, "DELETE FROM seat_usage WHERE day < ?", cutoff)
	if err != nil {
		return run, fmt.Errorf("usage: delete snapshots past the retention: %w", err)
	}
	if n, err := pruned.RowsAffected(); err == nil {
		run.Pruned = int(n)
	}
	if _, err := s.db.Exec(ctx, "DELETE FROM seat_usage_runs WHERE day < ?", cutoff); err != nil {
		return run, fmt.Errorf("usage: delete runs past the retention: %w", err)
	}
	return run, nil
}

// orgBatch returns the last id of the next batch of organizations after
// after, and how many there are.
func (s *Service) orgBatch(ctx context.Context, after string) (last string, n int, err error) {
	rows, err := s.db.Query(ctx, "SELECT id FROM organizations WHERE id > ? ORDER BY id LIMIT ?", after, s.batch)
	if err != nil {
		return "", 0, fmt.Errorf("usage: list organizations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&last); err != nil {
			return "", 0, fmt.Errorf("usage: list organizations: %w", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return "", 0, fmt.Errorf("usage: list organizations: %w", err)
	}
	return last, n, nil
}
