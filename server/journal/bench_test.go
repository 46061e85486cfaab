package journal_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// BenchmarkRecord measures a transaction that writes one journal row, with
// every writer in one organization (they queue on its chain head) and
// spread over 64 organizations.
func BenchmarkRecord(b *testing.B) {
	for _, orgs := range []int{1, 64} {
		b.Run(fmt.Sprintf("orgs=%d", orgs), func(b *testing.B) {
			storetest.EachBench(b, func(b *testing.B, d store.Dialect) {
				db := storetest.Open(b, d)
				ctx := journal.WithRequest(context.Background(), journal.Request{IP: "192.0.2.1", UserAgent: "bench", RequestID: "0123456789abcdef01234567"})
				var next atomic.Int64
				b.SetParallelism(4)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := next.Add(1)
						err := db.InTx(ctx, func(tx *store.Tx) error {
							return journal.Record(ctx, tx, journal.Entry{At: time.Now(), Actor: "account:acc_bench", Action: "bench.row",
								Target: fmt.Sprint(i), Organization: fmt.Sprint("org_", i%int64(orgs)), Details: map[string]any{"license": "lic_1"}})
						})
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		})
	}
}
