package accounts

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
)

// HashLimit bounds how many password hashes (argon2id, about 19 MiB each at
// the default cost) run at once, so memory stays bounded whatever arrives.
// Zero fields take the defaults.
type HashLimit struct {
	// Concurrent is the number of hashes that may run at once
	// (default 2×GOMAXPROCS).
	Concurrent int
	// Queue is the number of callers that may wait for a slot (default 256;
	// a waiting caller holds only its goroutine, no hash memory); beyond it a
	// caller is refused with protocol.ErrBusy.
	Queue int
	// Wait is how long a queued caller waits for a slot before it is
	// refused (default 10 s, well inside a client's timeout).
	Wait time.Duration
	// OnHash, when set, is called with the number of hashes running each time
	// one starts; tests use it to observe the bound.
	OnHash func(running int)
}

func (l HashLimit) orDefault() HashLimit {
	if l.Concurrent <= 0 {
		l.Concurrent = 2 * runtime.GOMAXPROCS(0)
	}
	if l.Queue <= 0 {
		l.Queue = 256
	}
	if l.Wait <= 0 {
		l.Wait = 10 * time.Second
	}
	return l
}

// hashGate is a bounded semaphore with a bounded wait queue in front of every
// password hash and verification.
type hashGate struct {
	cfg     HashLimit
	slots   chan struct{} // one element per running hash
	waiting chan struct{} // one element per queued caller
	running atomic.Int32
}

func newHashGate(cfg HashLimit) *hashGate {
	cfg = cfg.orDefault()
	return &hashGate{cfg: cfg, slots: make(chan struct{}, cfg.Concurrent), waiting: make(chan struct{}, cfg.Queue)}
}

func errBusy() error {
	return errf(protocol.ErrBusy, "the server is busy checking other passwords; try again in a few seconds")
}

// do runs fn holding a slot, waiting in the queue for at most cfg.Wait.
func (g *hashGate) do(ctx context.Context, fn func()) error {
	select {
	case g.slots <- struct{}{}:
	default:
		select {
		case g.waiting <- struct{}{}:
		default:
			return errBusy()
		}
		t := time.NewTimer(g.cfg.Wait)
		select {
		case g.slots <- struct{}{}:
			<-g.waiting
			t.Stop()
		case <-t.C:
			<-g.waiting
			return errBusy()
		case <-ctx.Done():
			<-g.waiting
			t.Stop()
			return ctx.Err()
		}
	}
	n := g.running.Add(1)
	defer func() { g.running.Add(-1); <-g.slots }()
	if g.cfg.OnHash != nil {
		g.cfg.OnHash(int(n))
	}
	fn()
	return nil
}
