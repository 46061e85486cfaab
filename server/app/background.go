package app

import (
	"context"

	"github.com/entitle/entitle/server/internal/ratelimit"
	"log/slog"
	"sync"
	"time"
)

// Job is periodic background work of a domain: expiring commands,
// re-checking domains, sending mail, sweeping rows past their life.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// Jobs lists the domains' background work; Background runs it.
func (a *App) Jobs() []Job {
	jobs := []Job{
		// Expired browser sign-ins, so the table holds about those waiting.
		{Name: "deviceauth.sweep", Every: time.Minute, Run: func(ctx context.Context) error {
			_, err := a.DeviceAuth.Sweep(ctx, 5000)
			return err
		}},
		{Name: "commands.expire", Every: time.Minute, Run: func(ctx context.Context) error {
			_, err := a.Commands.Expire(ctx, 1000)
			return err
		}},
		// Renewal orders (with their invoice) for subscriptions reaching
		// their term end within 30 days.
		{Name: "orders.renewals", Every: time.Hour, Run: func(ctx context.Context) error {
			_, err := a.Orders.RaiseRenewals(ctx, 500)
			return err
		}},
		// Computers idle past their workspace's reclaim policy.
		{Name: "workspaces.reclaim", Every: 10 * time.Minute, Run: func(ctx context.Context) error {
			_, err := a.Workspaces.Reclaim(ctx, 1000)
			return err
		}},
		// Seat use of the day, for the overview chart: at start, then the
		// first wake-up of each new day (UTC).
		{Name: "usage.snapshot", Every: time.Hour, Run: func(ctx context.Context) error {
			_, err := a.Usage.RunDue(ctx)
			return err
		}},
	}
	if a.sharedLimits != nil {
		// Rate-limit counters whose windows have passed.
		jobs = append(jobs, Job{Name: "ratelimit.sweep", Every: time.Minute, Run: func(ctx context.Context) error {
			_, err := ratelimit.Sweep(ctx, a.sharedLimits, a.now(), 5000)
			return err
		}})
	}
	return jobs
}

// SharedRateLimits reports whether the App counts its sign-in and device
// sign-in limits in the database (Config.RateLimits).
func (a *App) SharedRateLimits() bool { return a.sharedLimits != nil }

// Background runs every job on its period until ctx ends, and returns once
// all have stopped: `entitle-server serve` owns it. A job's failure is
// logged and retried at its next period; jobs on several server instances
// are safe to run at once (each is a guarded update over the shared
// database).
func (a *App) Background(ctx context.Context, logger *slog.Logger) {
	var wg sync.WaitGroup
	wg.Go(func() { a.Push.Run(ctx) })
	for _, j := range a.Jobs() {
		wg.Go(func() {
			t := time.NewTicker(j.Every)
			defer t.Stop()
			for {
				if err := j.Run(ctx); err != nil && ctx.Err() == nil {
					logger.Warn("background job failed", "job", j.Name, "err", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
}
