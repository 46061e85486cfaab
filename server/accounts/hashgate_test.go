package accounts_test

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/internal/ratelimit"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// peakGauge records the highest value it is given.
type peakGauge struct{ max atomic.Int32 }

func (g *peakGauge) see(n int) {
	for {
		m := g.max.Load()
		if int32(n) <= m || g.max.CompareAndSwap(m, int32(n)) {
			return
		}
	}
}

// 100 concurrent failed sign-ins never run more than the cap of password
// hashes at once; the extra ones wait (the queue is large enough here).
func TestPasswordHashingIsCapped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		var peak peakGauge
		var calls atomic.Int32
		f := newFixture(t, d, func(c *Config) {
			c.LoginFailuresPerIP = ratelimit.Limit{Off: true}
			c.LoginFailuresPerAccount = ratelimit.Limit{Off: true}
			c.PasswordWork = accounts.HashLimit{Concurrent: 3, Queue: 200, Wait: time.Minute, OnHash: func(n int) {
				calls.Add(1)
				peak.see(n)
				time.Sleep(time.Millisecond) // widen the overlap so an unbounded gate would show
			}}
		})
		f.Account("owner@example.com")
		calls.Store(0)
		_, errs := concurrently(100, func(int) (accounts.Account, error) {
			return f.Accounts.Login(f.Ctx, "owner@example.com", "wrong password", testIP)
		})
		for _, err := range errs {
			wantCode(t, err, protocol.ErrInvalidCredentials)
		}
		if got := calls.Load(); got != 100 {
			t.Fatalf("%d hashes ran through the gate, want 100", got)
		}
		if p := peak.max.Load(); p > 3 || p < 1 {
			t.Fatalf("peak concurrent hashes %d, want 1..3", p)
		}
	})
}

// Beyond the cap and the queue, a sign-in is refused as busy (HTTP 503)
// without hashing, and it does not count as a failed attempt.
func TestPasswordHashingRefusesWhenFull(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		release := make(chan struct{})
		entered := make(chan struct{}, 1)
		var armed atomic.Bool
		f := newFixture(t, d, func(c *Config) {
			c.LoginFailuresPerAccount = ratelimit.Limit{PerMinute: 1, Burst: 1}
			c.PasswordWork = accounts.HashLimit{Concurrent: 1, Queue: 1, Wait: 5 * time.Millisecond, OnHash: func(int) {
				if armed.Load() {
					entered <- struct{}{}
					<-release
				}
			}}
		})
		f.Account("owner@example.com")
		armed.Store(true)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = f.Accounts.Login(f.Ctx, "other@example.com", "wrong password", "192.0.2.9")
		}()
		<-entered
		armed.Store(false)
		_, err := f.Accounts.Login(f.Ctx, "owner@example.com", testPassword, testIP)
		wantCode(t, err, protocol.ErrBusy)
		if protocol.HTTPStatus(protocol.ErrBusy) != 503 {
			t.Fatalf("busy maps to %d, want 503", protocol.HTTPStatus(protocol.ErrBusy))
		}
		close(release)
		wg.Wait()
		// The refused attempt did not use the owner's single allowed failure.
		if _, err := f.Accounts.Login(f.Ctx, "owner@example.com", "wrong password", testIP); err == nil {
			t.Fatal("wrong password accepted")
		}
		_, err = f.Accounts.Login(f.Ctx, "owner@example.com", "wrong password", testIP)
		wantCode(t, err, protocol.ErrRateLimited)
	})
}

// BenchmarkConcurrentSignInHeap runs 100 concurrent failed sign-ins at the
// real argon2id cost (19 MiB) and reports the peak heap. With the default
// cap (2×GOMAXPROCS) the bound is twice cap×19 MiB (GOGC=100 lets garbage of
// finished hashes double the live heap) plus 64 MiB; uncapped it was about 1.9 GiB.
func BenchmarkConcurrentSignInHeap(b *testing.B) {
	f := newFixture(b, store.SQLite, func(c *Config) {
		c.PasswordHash = accounts.Argon2Params{}
		c.LoginFailuresPerIP = ratelimit.Limit{Off: true}
		c.LoginFailuresPerAccount = ratelimit.Limit{Off: true}
		c.PasswordWork = accounts.HashLimit{Queue: 200, Wait: time.Minute}
	})
	f.Account("owner@example.com")
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	for b.Loop() {
		_, _ = concurrently(100, func(int) (accounts.Account, error) {
			return f.Accounts.Login(f.Ctx, "owner@example.com", "wrong password", testIP)
		})
	}
	close(stop)
	<-done
	bound := 2*uint64(2*runtime.GOMAXPROCS(0))*19<<20 + 64<<20
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	if peak.Load() > bound {
		b.Fatalf("peak heap %d MiB above the bound %d MiB", peak.Load()>>20, bound>>20)
	}
}
