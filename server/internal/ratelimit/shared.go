package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/entitle/entitle/server/store"
)

// Sources makes the Counters of named limits: in the database when DB is
// set, in memory otherwise (the zero value).
type Sources struct {
	DB     *store.DB // nil: in memory, per process
	Logger *slog.Logger
}

// Counter returns the counter of the limit called name (unique per limit:
// it separates the keys of different limits in the shared table).
func (s Sources) Counter(name string, cfg Limit) Counter {
	if s.DB == nil || cfg.Off {
		return Memory(cfg)
	}
	logger := s.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return NewShared(s.DB, name, cfg, logger)
}

// Shared is a Counter in the database table rate_counters, so that every
// server instance on the database counts against the same limit. A limit of
// Burst events refilled at PerMinute becomes Burst events per window of
// Burst/PerMinute minutes, measured over a sliding window: the previous
// window's count, weighted by how much of it the sliding window still
// covers, plus the current one's (the estimate Cloudflare and Redis
// limiters use). Each event is one upsert; checks are one indexed read.
// Callers racing on one key can overshoot by the number in flight, as in
// memory.
type Shared struct {
	db     *store.DB
	name   string
	cfg    Limit
	window int64 // milliseconds
	log    *slog.Logger
}

// NewShared returns the shared counter of the limit called name.
func NewShared(db *store.DB, name string, cfg Limit, logger *slog.Logger) *Shared {
	w := int64(float64(cfg.Burst) / cfg.PerMinute * float64(time.Minute/time.Millisecond))
	if w < 1000 {
		w = 1000
	}
	return &Shared{db: db, name: name, cfg: cfg, window: w, log: logger}
}

// Window is the length of the counter's fixed windows.
func (s *Shared) Window() time.Duration { return time.Duration(s.window) * time.Millisecond }

// rowKey is what the table stores for key: a hash of the limit's name and
// key, so no address or email is kept there.
func (s *Shared) rowKey(key string) string {
	sum := sha256.Sum256([]byte(s.name + "\x00" + key))
	return hex.EncodeToString(sum[:16])
}

// windows returns the start of the current window (Unix ms) and the part of
// it already elapsed (0 to 1).
func (s *Shared) windows(now time.Time) (cur int64, elapsed float64) {
	ms := now.UnixMilli()
	cur = ms - ms%s.window
	return cur, float64(ms-cur) / float64(s.window)
}

// counts reads the previous and current windows' counts of rk.
func (s *Shared) counts(ctx context.Context, rk string, cur int64) (prev, now int64, err error) {
	rows, err := s.db.Query(ctx, `SELECT window_start, count FROM rate_counters WHERE key = ? AND window_start >= ?`, rk, cur-s.window)
	if err != nil {
		return 0, 0, fmt.Errorf("rate limit %s: %w", s.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var start, n int64
		if err := rows.Scan(&start, &n); err != nil {
			return 0, 0, fmt.Errorf("rate limit %s: %w", s.name, err)
		}
		switch start {
		case cur:
			now = n
		case cur - s.window:
			prev = n
		}
	}
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("rate limit %s: %w", s.name, err)
	}
	return prev, now, nil
}

// estimate is the sliding window's count.
func estimate(prev, cur int64, elapsed float64) float64 {
	return float64(prev)*(1-elapsed) + float64(cur)
}

// count adds one event to rk's current window and returns its count.
func (s *Shared) count(ctx context.Context, rk string, cur int64) (int64, error) {
	var n int64
	err := s.db.WriteRow(ctx, `INSERT INTO rate_counters (key, window_start, count, expires_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (key, window_start) DO UPDATE SET count = rate_counters.count + 1 RETURNING count`,
		[]any{&n}, rk, cur, cur+2*s.window)
	if err != nil {
		return 0, fmt.Errorf("rate limit %s: count: %w", s.name, err)
	}
	return n, nil
}

// Allow counts one event for key if the limit allows it.
func (s *Shared) Allow(ctx context.Context, key string, now time.Time) (bool, error) {
	rk := s.rowKey(key)
	cur, elapsed := s.windows(now)
	prev, n, err := s.counts(ctx, rk, cur)
	if err != nil {
		return false, err
	}
	if estimate(prev, n, elapsed)+1 > float64(s.cfg.Burst) {
		return false, nil
	}
	if _, err := s.count(ctx, rk, cur); err != nil {
		return false, err
	}
	return true, nil
}

// Take claims an attempt for key; only its failure, in Attempt.Done, counts.
func (s *Shared) Take(ctx context.Context, key string, now time.Time) (Attempt, bool, error) {
	rk := s.rowKey(key)
	cur, elapsed := s.windows(now)
	prev, n, err := s.counts(ctx, rk, cur)
	if err != nil {
		return Attempt{}, false, err
	}
	if estimate(prev, n, elapsed)+1 > float64(s.cfg.Burst) {
		return Attempt{}, false, nil
	}
	return Attempt{shared: s, key: rk}, true, nil
}

// fail counts a failed attempt on the row key rk and reports whether the
// limit is now used up.
func (s *Shared) fail(ctx context.Context, rk string, now time.Time) bool {
	ctx = context.WithoutCancel(ctx) // the attempt happened: a client gone meanwhile must not undo its count
	cur, elapsed := s.windows(now)
	prev, _, err := s.counts(ctx, rk, cur)
	if err == nil {
		var n int64
		if n, err = s.count(ctx, rk, cur); err == nil {
			return estimate(prev, n, elapsed)+1 > float64(s.cfg.Burst)
		}
	}
	s.log.ErrorContext(ctx, "a failed attempt could not be counted against its rate limit", "limit", s.name, "err", err)
	return false
}

// Sweep deletes up to limit counters whose windows have passed, and reports
// how many it deleted. The server runs it as a background job, so the table
// holds about the keys active in the last windows.
func Sweep(ctx context.Context, db *store.DB, now time.Time, limit int) (int, error) {
	var n int64
	err := db.InTx(ctx, func(tx *store.Tx) (err error) {
		n, err = tx.ExecAffected(ctx, `DELETE FROM rate_counters WHERE (key, window_start) IN
			(SELECT key, window_start FROM rate_counters WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`, store.Millis(now), limit)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sweep rate counters: %w", err)
	}
	return int(n), nil
}
