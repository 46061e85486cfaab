package devices_test

import (
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// BenchmarkDevicePage times one page (50 devices, with the total) of an
// account's device list and one page of its license list, at each of
// ENTITLE_BENCH_DEVICES (default 1000; scripts/bench.sh adds 1000000 with
// SCALE=1) on both databases: the first page, and one from a cursor in the
// middle of the list. Target (issue 15): a page at 1M within a small factor
// of one at 1k (TestPageQueriesUseTheIndexes holds the plans).
func BenchmarkDevicePage(b *testing.B) {
	for _, n := range scaleSizes(b) {
		b.Run(sizeName(n), func(b *testing.B) {
			storetest.EachBench(b, func(b *testing.B, d store.Dialect) {
				f := newFixture(b, d, noChurnLimit)
				acct := f.Account("owner@example.com")
				lic := f.License("owner@example.com", 100, time.Time{})
				f.License("owner@example.com", 100, time.Time{})
				seedDevices(b, f.DB, realKeys, lic.ID, n, 3, 10, time.Now().Add(-time.Hour).UnixMilli())
				if _, err := f.DB.Exec(f.Ctx, "ANALYZE"); err != nil {
					b.Fatal(err)
				}
				// A cursor in the middle: page until half the devices.
				mid := ""
				for seen := 0; seen < n/2; {
					p, err := f.Devices.PageDevices(f.Ctx, acct.ID, paging.Request{Limit: paging.MaxLimit, Cursor: mid})
					if err != nil {
						b.Fatal(err)
					}
					seen += len(p.Items)
					mid = p.NextCursor
				}
				for _, bc := range []struct{ name, cursor string }{{"first", ""}, {"middle", mid}} {
					b.Run("devices-"+bc.name, func(b *testing.B) {
						for b.Loop() {
							p, err := f.Devices.PageDevices(f.Ctx, acct.ID, paging.Request{Limit: 50, Cursor: bc.cursor})
							if err != nil || len(p.Items) != 50 || p.Total != int64(n) {
								b.Fatalf("page: %d items, total %d, %v", len(p.Items), p.Total, err)
							}
						}
						b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/page")
					})
				}
				b.Run("licenses", func(b *testing.B) {
					for b.Loop() {
						if _, err := f.Licenses.PageLicenses(f.Ctx, acct.ID, paging.Request{Limit: 50}); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/page")
				})
			})
		})
	}
}
