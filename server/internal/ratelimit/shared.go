package ratelimit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
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
// server instance on the database counts against the same limit: the same
// token bucket as in memory (Burst tokens, refilled at PerMinute), one row
// per key holding the tokens left at its last update. Taking a token is one
// guarded upsert, which refills the bucket for the time elapsed and takes a
// token only if one is there, atomically on either database; a check is one
// read by primary key.
type Shared struct {
	db   *store.DB
	name string
	cfg  Limit
	rate float64 // tokens per millisecond
	full int64   // milliseconds an empty bucket takes to refill
	log  *slog.Logger
}

// NewShared returns the shared counter of the limit called name.
func NewShared(db *store.DB, name string, cfg Limit, logger *slog.Logger) *Shared {
	rate := cfg.PerMinute / float64(time.Minute/time.Millisecond)
	return &Shared{db: db, name: name, cfg: cfg, rate: rate, full: int64(float64(cfg.Burst)/rate) + 1, log: logger}
}

// rowKey is what the table stores for key: a hash of the limit's name and
// key, so no address or email is kept there.
func (s *Shared) rowKey(key string) string {
	sum := sha256.Sum256([]byte(s.name + "\x00" + key))
	return hex.EncodeToString(sum[:16])
}

// refilled is the SQL expression of the row's tokens refilled up to the
// time of its first argument, capped at the burst; its arguments are
// refillArgs.
const refilled = `CASE WHEN rate_counters.tokens + (CAST(? AS BIGINT) - rate_counters.updated_at) * CAST(? AS DOUBLE PRECISION) < CAST(? AS DOUBLE PRECISION)
	THEN rate_counters.tokens + (CAST(? AS BIGINT) - rate_counters.updated_at) * CAST(? AS DOUBLE PRECISION) ELSE CAST(? AS DOUBLE PRECISION) END`

func (s *Shared) refillArgs(now int64) []any {
	b := float64(s.cfg.Burst)
	return []any{now, s.rate, b, now, s.rate, b}
}

// take takes a token from rk's bucket if one is there, reporting whether it
// did and how many are left.
func (s *Shared) take(ctx context.Context, rk string, now time.Time) (ok bool, left float64, err error) {
	ms := now.UnixMilli()
	args := []any{rk, float64(s.cfg.Burst) - 1, ms, ms + s.full}
	args = append(args, s.refillArgs(ms)...)
	args = append(args, ms, ms+s.full)
	args = append(args, s.refillArgs(ms)...)
	err = s.db.WriteRow(ctx, `INSERT INTO rate_counters (key, tokens, updated_at, expires_at)
		VALUES (?, CAST(? AS DOUBLE PRECISION), CAST(? AS BIGINT), CAST(? AS BIGINT))
		ON CONFLICT (key) DO UPDATE SET tokens = `+refilled+` - 1, updated_at = CAST(? AS BIGINT), expires_at = CAST(? AS BIGINT)
		WHERE `+refilled+` >= 1
		RETURNING tokens`, []any{&left}, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, 0, nil // no token: the row is unchanged
	}
	if err != nil {
		return false, 0, fmt.Errorf("rate limit %s: %w", s.name, err)
	}
	return true, left, nil
}

// available reports whether rk's bucket holds a token, without taking it.
func (s *Shared) available(ctx context.Context, rk string, now time.Time) (bool, error) {
	var tokens float64
	var updated int64
	err := s.db.QueryRow(ctx, `SELECT tokens, updated_at FROM rate_counters WHERE key = ?`, rk).Scan(&tokens, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil // a full bucket
	}
	if err != nil {
		return false, fmt.Errorf("rate limit %s: %w", s.name, err)
	}
	return min(float64(s.cfg.Burst), tokens+float64(now.UnixMilli()-updated)*s.rate) >= 1, nil
}

// Allow takes one token for key, reporting whether one was available.
func (s *Shared) Allow(ctx context.Context, key string, now time.Time) (bool, error) {
	ok, _, err := s.take(ctx, s.rowKey(key), now)
	return ok, err
}

// Take claims an attempt for key; only its failure, in Attempt.Done, takes a
// token. Attempts in flight take none, as in memory.
func (s *Shared) Take(ctx context.Context, key string, now time.Time) (Attempt, bool, error) {
	rk := s.rowKey(key)
	ok, err := s.available(ctx, rk, now)
	if err != nil || !ok {
		return Attempt{}, false, err
	}
	return Attempt{shared: s, key: rk}, true, nil
}

// fail takes the token of a failed attempt on the row key rk and reports
// whether the bucket is now empty.
func (s *Shared) fail(ctx context.Context, rk string, now time.Time) bool {
	ctx = context.WithoutCancel(ctx) // the attempt happened: a client gone meanwhile must not undo its count
	ok, left, err := s.take(ctx, rk, now)
	if err != nil {
		s.log.ErrorContext(ctx, "a failed attempt could not be counted against its rate limit", "limit", s.name, "err", err)
		return false
	}
	return !ok || left < 1
}

// Sweep deletes up to limit counters whose buckets have refilled (a missing
// row is a full bucket), and reports how many it deleted. The server runs it
// as a background job, so the table holds about the keys limited lately.
func Sweep(ctx context.Context, db *store.DB, now time.Time, limit int) (int, error) {
	var n int64
	err := db.InTx(ctx, func(tx *store.Tx) (err error) {
		n, err = tx.ExecAffected(ctx, `DELETE FROM rate_counters WHERE key IN
			(SELECT key FROM rate_counters WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`, store.Millis(now), limit)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sweep rate counters: %w", err)
	}
	return int(n), nil
}
