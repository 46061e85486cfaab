package devices_test

import (
	"fmt"
	"testing"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// seedOrgDevices inserts per devices on each of the licenses, in org, in one
// statement per license: hostnames host-<n>, last seen spread over two days
// (so some are online), every 13th suspended and every 17th deactivated.
func seedOrgDevices(t testing.TB, db *store.DB, org, prefix string, lics []licenses.License, per int, now int64) {
	t.Helper()
	q := `INSERT INTO devices (id, license_id, organization_id, fingerprint, product, hostname, os, credential_hash, activated_at,
		last_seen_at, suspended_at, deactivated_at)
		WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < CAST(? AS INTEGER)),
		num(j) AS (SELECT i + CAST(? AS INTEGER) FROM seq)
		SELECT 'dev_' || ? || '_' || j, ?, ?, ? || j, 'bench', 'host-' || j, 'linux', ? || j,
		CAST(? AS BIGINT) - j * 1000, CAST(? AS BIGINT) - (j * 7919 % 172800) * 1000,
		CASE WHEN j % 13 = 0 THEN CAST(? AS BIGINT) ELSE NULL END,
		CASE WHEN j % 17 = 0 THEN CAST(? AS BIGINT) ELSE NULL END FROM num`
	for i, l := range lics {
		if _, err := db.Exec(t.Context(), q, per, i*per, prefix, l.ID, org, prefix, prefix, now, now, now, now); err != nil {
			t.Fatalf("seed organization devices: %v", err)
		}
	}
}

// BenchmarkOrgDeviceList measures one page (50) of an organization's device
// list with its total, at 10,000 computers in the organization (100 members,
// 100 computers each) beside 10,000 of another organization, for each sort,
// filter and search, first page and a deep one (target: < 100 ms a page).
func BenchmarkOrgDeviceList(b *testing.B) {
	storetest.EachBench(b, func(b *testing.B, d store.Dialect) {
		f := newFixture(b, d, noChurnLimit)
		orgs := make([]string, 2)
		for i := range orgs {
			o, err := f.App.Organizations.Create(f.Ctx, "operator:bench", fmt.Sprint("Org ", i), "")
			if err != nil {
				b.Fatal(err)
			}
			orgs[i] = o.ID
		}
		const members, per = 100, 100
		now := store.Millis(f.Clock.Now())
		for oi, org := range orgs {
			lics := make([]licenses.License, members)
			for m := range lics {
				email := fmt.Sprintf("user%03d@org%d.example", m, oi)
				f.Account(email)
				lics[m] = apptest.OrgLicense(b, f.App, f.DB, org, email, []string{"Pro", "Team"}[m%2], per, licenses.ManagedRemote)
			}
			seedOrgDevices(b, f.DB, org, fmt.Sprint("o", oi), lics, per, now)
		}
		if d == store.Postgres {
			if _, err := f.DB.Exec(b.Context(), "ANALYZE"); err != nil {
				b.Fatal(err)
			}
		}
		org := orgs[0]
		deep := func(fl adminapi.DeviceFilter) string {
			// The cursor after 5,000 computers.
			req := paging.Request{Limit: 500}
			for range 10 {
				p, err := f.Devices.PageOrgDevices(f.Ctx, org, fl, req)
				if err != nil || p.NextCursor == "" {
					b.Fatalf("deep cursor: %v", err)
				}
				req.Cursor = p.NextCursor
			}
			return req.Cursor
		}
		for _, c := range []struct {
			name string
			f    adminapi.DeviceFilter
			deep bool
		}{
			{"last_seen", adminapi.DeviceFilter{}, false},
			{"last_seen_deep", adminapi.DeviceFilter{}, true},
			{"hostname_asc", adminapi.DeviceFilter{Sort: adminapi.SortHostname, Order: "asc"}, false},
			{"hostname_deep", adminapi.DeviceFilter{Sort: adminapi.SortHostname, Order: "asc"}, true},
			{"activated", adminapi.DeviceFilter{Sort: adminapi.SortActivated}, false},
			{"user", adminapi.DeviceFilter{Sort: adminapi.SortUser, Order: "asc"}, false},
			{"user_deep", adminapi.DeviceFilter{Sort: adminapi.SortUser, Order: "asc"}, true},
			{"online", adminapi.DeviceFilter{Status: adminapi.StatusOnline}, false},
			{"suspended", adminapi.DeviceFilter{Status: adminapi.StatusSuspended}, false},
			{"user_email", adminapi.DeviceFilter{UserEmail: "user042@org0.example"}, false},
			{"plan", adminapi.DeviceFilter{Plan: "Team", Sort: adminapi.SortHostname}, false},
			{"search", adminapi.DeviceFilter{Search: "ost-12"}, false},
		} {
			b.Run(c.name, func(b *testing.B) {
				req := paging.Request{Limit: 50}
				if c.deep {
					req.Cursor = deep(c.f)
				}
				var total int64
				for b.Loop() {
					p, err := f.Devices.PageOrgDevices(f.Ctx, org, c.f, req)
					if err != nil || len(p.Items) == 0 {
						b.Fatalf("page: %v (%d items)", err, len(p.Items))
					}
					total = p.Total
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
				b.ReportMetric(float64(total), "matching")
			})
		}
	})
}
