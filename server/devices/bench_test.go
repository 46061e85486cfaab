package devices_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// BenchmarkCheckin measures the hot path: many devices checking in at once.
func BenchmarkCheckin(b *testing.B) {
	storetest.EachBench(b, func(b *testing.B, d store.Dialect) {
		f := newFixture(b, d, noChurnLimit, func(c *Config) { c.Now = time.Now })
		f.Account("owner@example.com")
		lic := f.License("owner@example.com", 1000, time.Time{})
		const devices = 200
		creds := make([]string, devices)
		for i := range creds {
			creds[i] = f.ActivateKey(lic.Key, fp(fmt.Sprint(i))).Credential
		}
		var next atomic.Int64
		// Several requests in flight per core, as with many agents, so database
		// round trips overlap.
		b.SetParallelism(4)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1)) % devices
				req := protocol.CheckinRequest{Fingerprint: fp(fmt.Sprint(i)), Device: facts("bench"), Profiles: &protocol.ProfileSummary{Total: 1, Valid: 1}}
				if _, err := f.Devices.Checkin(f.Ctx, creds[i], req); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checkins/s")
	})
}

// BenchmarkActivate measures new activations on one large license.
func BenchmarkActivate(b *testing.B) {
	storetest.EachBench(b, func(b *testing.B, d store.Dialect) {
		f := newFixture(b, d, noChurnLimit, func(c *Config) { c.Now = time.Now })
		f.Account("owner@example.com")
		lic := f.License("owner@example.com", licenses.MaxSeats, time.Time{})
		var next atomic.Int64
		// Several requests in flight per core, as with many agents, so database
		// round trips overlap.
		b.SetParallelism(4)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := f.Devices.Activate(f.Ctx, keyRequest(lic.Key, fp(fmt.Sprint("m", next.Add(1)))), "192.0.2.1"); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "activations/s")
	})
}
