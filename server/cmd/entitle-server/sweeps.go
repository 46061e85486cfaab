package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	domains "github.com/entitle/entitle/server/app"
)

// domainSweepInterval is how often serve looks for approved domains due for
// a DNS re-check (each domain is re-checked once a day; see
// organizations.Config.DomainRecheck).
const domainSweepInterval = 10 * time.Minute

// startSweeps starts serve's background sweeps; the returned function stops
// them and waits until they have returned.
func startSweeps(ctx context.Context, svc *domains.App, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		svc.Organizations.RunDomainSweep(ctx, domainSweepInterval)
	}()
	logger.Debug("domain sweep started", "interval", domainSweepInterval)
	return func() {
		cancel()
		wg.Wait()
	}
}
