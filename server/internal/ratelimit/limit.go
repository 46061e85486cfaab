package ratelimit

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimiterKeys bounds the memory a flood of distinct IPs, emails or license
// ids can make a limiter set use.
const maxLimiterKeys = 20000

// Limiters is a set of token buckets by key (IP, email, license id).
type Limiters struct {
	cfg Limit
	mu  sync.Mutex
	m   map[string]*limiterEntry
}

type limiterEntry struct {
	lim      *rate.Limiter
	used     time.Time
	inflight int // attempts taken but not yet done
}

// New returns an empty set of buckets of cfg.
func New(cfg Limit) *Limiters {
	return &Limiters{cfg: cfg, m: make(map[string]*limiterEntry)}
}

// entry returns the bucket for key, creating it; ls.mu must be held.
func (ls *Limiters) entry(key string, now time.Time) *limiterEntry {
	e, ok := ls.m[key]
	if !ok {
		if len(ls.m) >= maxLimiterKeys {
			ls.evict(now)
		}
		e = &limiterEntry{lim: rate.NewLimiter(rate.Limit(ls.cfg.PerMinute/60), ls.cfg.Burst)}
		ls.m[key] = e
	}
	e.used = now
	return e
}

// evict first drops idle buckets that have refilled (forgetting them changes
// nothing), and only if that is not enough, the less recently used half.
func (ls *Limiters) evict(now time.Time) {
	for k, e := range ls.m {
		if e.inflight == 0 && e.lim.TokensAt(now) >= float64(ls.cfg.Burst) {
			delete(ls.m, k)
		}
	}
	if len(ls.m) < maxLimiterKeys {
		return
	}
	var total time.Duration
	for _, e := range ls.m {
		total += now.Sub(e.used)
	}
	avg := total / time.Duration(len(ls.m))
	for k, e := range ls.m {
		if e.inflight == 0 && now.Sub(e.used) >= avg {
			delete(ls.m, k)
		}
	}
}

// Allow takes one token for key, reporting whether one was available.
func (ls *Limiters) Allow(key string, now time.Time) bool {
	if ls.cfg.Off {
		return true
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.entry(key, now).lim.AllowN(now, 1)
}

// Attempt is a claim on a token for an operation whose outcome decides
// whether it counts: a successful login is not a failure. Only a completed
// failure consumes a token: attempts still in flight do not count, so 50
// simultaneous correct sign-ins all pass. Parallel failures can overshoot the
// bucket by the number in flight, which the caller bounds (password checks
// are capped by the accounts hash gate).
type Attempt struct {
	ls *Limiters
	e  *limiterEntry
	// shared and key: an attempt on a Shared counter.
	shared *Shared
	key    string
}

// Take claims a token for key; ok is false when the bucket is empty (only
// completed failures empty it).
func (ls *Limiters) Take(key string, now time.Time) (a Attempt, ok bool) {
	if ls.cfg.Off {
		return Attempt{}, true
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	e := ls.entry(key, now)
	if e.lim.TokensAt(now) < 1 {
		return Attempt{}, false
	}
	e.inflight++
	return Attempt{ls: ls, e: e}, true
}

// Done ends the attempt; a failure consumes the token. It reports whether the
// bucket is now empty, i.e. the key has just been locked out.
// On a Shared counter, the failure is counted in the database under ctx's
// values (not its cancellation: the attempt has happened); should that
// write fail, the error is logged and the failure goes uncounted.
func (a Attempt) Done(ctx context.Context, now time.Time, failed bool) (exhausted bool) {
	if a.shared != nil {
		if !failed {
			return false
		}
		return a.shared.fail(ctx, a.key, now)
	}
	if a.ls == nil {
		return false
	}
	a.ls.mu.Lock()
	defer a.ls.mu.Unlock()
	a.e.inflight--
	if !failed {
		return false
	}
	a.e.lim.AllowN(now, 1)
	return a.e.lim.TokensAt(now) < 1
}
