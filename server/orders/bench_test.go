package orders_test

import (
	"testing"

	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// BenchmarkConfirm measures one confirmation: lock the order, check its
// plans, take the year's invoice number, write it, its journal row and the
// invoice mail, from 8 goroutines at once (they queue on the counter).
func BenchmarkConfirm(b *testing.B) {
	storetest.EachBench(b, func(b *testing.B, d store.Dialect) {
		f := &fixture{Fixture: apptest.New(b, d)}
		f.Orders, f.Plans = f.App.Orders, f.App.Plans
		org, _ := f.org("")
		p := f.plan(100, "EUR")
		ids := make(chan string, b.N)
		for range b.N {
			ids <- f.validated(org, p, 1).ID
		}
		close(ids)
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := f.Orders.Confirm(f.Ctx, admin, org, <-ids, ""); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
