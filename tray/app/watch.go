package app

import (
	"context"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

// watch keeps a connection to the agent: status, then the event stream; when
// either fails it waits (MinBackoff doubling up to MaxBackoff; back to
// MinBackoff after a stream that delivered events) and starts again.
func (a *App) watch(ctx context.Context) {
	backoff := a.o.MinBackoff
	var lastErr string
	for ctx.Err() == nil {
		if a.session(ctx, &lastErr) {
			backoff = a.o.MinBackoff
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, a.o.MaxBackoff)
	}
}

// session runs one connection; it reports whether the event stream delivered
// anything (a healthy connection).
// The menu shows a stable line for a failure; its detail is logged once,
// when it changes (lastErr).
func (a *App) session(ctx context.Context, lastErr *string) bool {
	fail := func(msg string, err error) {
		if e := err.Error(); e != *lastErr {
			*lastErr = e
			a.log.Warn(msg, "err", err)
		}
		a.send(ctx, connUpdate(err))
	}
	ag, err := a.o.Dial()
	if err != nil {
		fail("cannot reach the agent", err) // i18n:ignore: log messages (the menu shows connUpdate's problem)
		return false
	}
	sctx, cancel := context.WithTimeout(ctx, a.o.ActionTimeout)
	st, err := ag.Status(sctx)
	cancel()
	if err != nil {
		fail("agent status failed", err) // i18n:ignore: log messages (the menu shows connUpdate's problem)
		return false
	}
	*lastErr = ""
	if !a.send(ctx, update{agent: ag, status: st}) {
		return false
	}
	ectx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, errc := ag.Events(ectx)
	healthy := false
	for ev := range events {
		healthy = true
		if ev.Type == agentapi.EventMessage {
			if ev.Message != "" && !a.send(ctx, update{message: ev.Message}) {
				return healthy
			}
			continue
		}
		st := ev.Status
		if st == nil {
			sctx, cancel := context.WithTimeout(ctx, a.o.ActionTimeout)
			st, err = ag.Status(sctx)
			cancel()
			if err != nil {
				a.log.Debug("agent status failed", "err", err)
				continue
			}
		}
		if !a.send(ctx, update{status: st}) {
			return healthy
		}
	}
	if err := <-errc; err != nil {
		a.log.Info("agent event stream ended", "err", err)
	}
	return healthy
}
