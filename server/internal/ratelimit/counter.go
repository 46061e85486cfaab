package ratelimit

import (
	"context"
	"time"
)

// Counter is a set of limits by key (client IP, email and IP): in memory for
// one process (Memory), or in the database, shared by every server instance
// on it (Shared). Sources makes the right one for the configuration.
type Counter interface {
	// Allow counts one event for key, reporting whether the limit allowed
	// it; a refused event is not counted.
	Allow(ctx context.Context, key string, now time.Time) (bool, error)
	// Take claims the right to try an operation whose failure counts (see
	// Attempt); ok is false when completed failures have used the limit up.
	Take(ctx context.Context, key string, now time.Time) (a Attempt, ok bool, err error)
}

// Memory is a Counter over in-memory buckets (Limiters): each process counts
// on its own.
func Memory(cfg Limit) Counter { return memory{New(cfg)} }

type memory struct{ ls *Limiters }

func (m memory) Allow(_ context.Context, key string, now time.Time) (bool, error) {
	return m.ls.Allow(key, now), nil
}

func (m memory) Take(_ context.Context, key string, now time.Time) (Attempt, bool, error) {
	a, ok := m.ls.Take(key, now)
	return a, ok, nil
}
