package devices_test

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// scaleSizes are the database sizes the scale benchmarks run at:
// ENTITLE_BENCH_DEVICES, a comma-separated list (default 1000; scripts/bench.sh
// adds 1000000 with SCALE=1).
func scaleSizes(b *testing.B) []int {
	spec := os.Getenv("ENTITLE_BENCH_DEVICES")
	if spec == "" {
		spec = "1000"
	}
	var out []int
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1000 {
			b.Fatalf("ENTITLE_BENCH_DEVICES: %q is not a size of at least 1000", f)
		}
		out = append(out, n)
	}
	return out
}

func sizeName(n int) string {
	if n%1_000_000 == 0 {
		return fmt.Sprint(n/1_000_000, "M")
	}
	return fmt.Sprint(n/1000, "k")
}

// latencies collects per-operation durations across goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

func (l *latencies) p99ms() float64 {
	if len(l.d) == 0 {
		return 0
	}
	slices.Sort(l.d)
	return float64(l.d[len(l.d)*99/100]) / float64(time.Millisecond)
}

// scaleFixture is a database holding n devices: n-1000 seeded in bulk on one
// license (they make the tables and indexes as large as n devices would)
// and 1000 activated for real on another, whose credentials the benchmark
// knows.
func scaleFixture(b *testing.B, d store.Dialect, n int) (*fixture, []batchDevice, licenses.License) {
	f := newFixture(b, d, noChurnLimit, func(c *Config) { c.Now = time.Now })
	f.Account("owner@example.com")
	filler := f.License("owner@example.com", licenses.MaxSeats, time.Time{})
	start := time.Now()
	seedDevices(b, f.DB, realKeys, filler.ID, n-1000, 1, 0, time.Now().Add(-time.Hour).UnixMilli())
	if _, err := f.DB.Exec(f.Ctx, "UPDATE licenses SET seats_used = ? WHERE id = ?", n-1000, filler.ID); err != nil {
		b.Fatal(err)
	}
	if d == store.Postgres {
		if _, err := f.DB.Exec(f.Ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%s: seeded %d devices in %v", d, n-1000, time.Since(start).Round(time.Millisecond))
	lic := f.License("owner@example.com", licenses.MaxSeats, time.Time{})
	devs := make([]batchDevice, 1000)
	for i := range devs {
		m := fmt.Sprint("scale-", i)
		a := f.ActivateKey(lic.Key, fp(m))
		devs[i] = batchDevice{id: a.DeviceID, cred: a.Credential, machine: m}
	}
	return f, devs, lic
}

// BenchmarkScale measures check-ins and activations with 1k (and, with
// ENTITLE_BENCH_DEVICES, 1M) devices in the database, on both databases,
// reporting the rate and the 99th percentile latency.
func BenchmarkScale(b *testing.B) {
	for _, n := range scaleSizes(b) {
		b.Run(sizeName(n), func(b *testing.B) { benchScale(b, n) })
	}
}

func benchScale(b *testing.B, n int) {
	storetest.EachBench(b, func(b *testing.B, d store.Dialect) {
		f, devs, lic := scaleFixture(b, d, n)
		b.Run("checkin", func(b *testing.B) {
			runP99(b, "checkins/s", func(i int64) error {
				dv := devs[int(i)%len(devs)]
				_, err := f.Devices.Checkin(f.Ctx, dv.cred, protocol.CheckinRequest{Fingerprint: fp(dv.machine), Device: facts("bench")})
				return err
			})
		})
		b.Run("activate", func(b *testing.B) {
			runP99(b, "activations/s", func(i int64) error {
				_, err := f.Devices.Activate(f.Ctx, keyRequest(lic.Key, fp(fmt.Sprint("new-", i))), "192.0.2.1")
				return err
			})
		})
	})
}

// runP99 runs op in parallel (several in flight per core, as with many
// agents) and reports its rate in unit and its 99th percentile latency.
func runP99(b *testing.B, unit string, op func(i int64) error) {
	var next atomic.Int64
	var lat latencies
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			if err := op(next.Add(1)); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		lat.add(mine)
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
	b.ReportMetric(lat.p99ms(), "p99-ms")
}
