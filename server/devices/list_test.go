package devices_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestPageDevicesWhileInserting pages through 10,000 devices (some
// deactivated, many sharing an activation time) while devices are being
// added: every seeded device comes exactly once, none twice, in the list's
// order, and the total counts them all.
func TestPageDevicesWhileInserting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, noChurnLimit)
		acct := f.Account("owner@example.com")
		lic := f.License("owner@example.com", 100, time.Time{})
		const n = 10000
		base := time.Now().Add(-time.Hour).UnixMilli()
		seedDevices(t, f.DB, namedKeys, lic.ID, n, 3, 7, base)

		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		added := 0
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				now := time.Now().UnixMilli()
				if _, err := f.DB.Exec(f.Ctx, `INSERT INTO devices (id, license_id, fingerprint, product, credential_hash, activated_at, last_seen_at)
					VALUES (?, ?, ?, 'bench', ?, ?, ?)`, fmt.Sprint("dev_new_", i), lic.ID, fmt.Sprint("new-", i), fmt.Sprint("new-", i), now, now); err != nil {
					t.Errorf("insert while paging: %v", err)
					return
				}
				added++
			}
		}()

		seen := map[string]int{}
		var cursor string
		pages := 0
		var last struct {
			active bool
			at     time.Time
			id     string
		}
		first := true
		for {
			p, err := f.Devices.PageDevices(f.Ctx, acct.ID, paging.Request{Limit: 337, Cursor: cursor})
			if err != nil {
				t.Fatalf("page %d: %v", pages, err)
			}
			pages++
			if p.Total < n {
				t.Fatalf("page %d: total %d, want at least %d", pages, p.Total, n)
			}
			for _, dv := range p.Items {
				seen[dv.ID]++
				if !first {
					ordered := (last.active && !dv.Active) ||
						(last.active == dv.Active && (dv.ActivatedAt.Before(last.at) || (dv.ActivatedAt.Equal(last.at) && dv.ID < last.id)))
					if !ordered {
						t.Fatalf("out of order: %s after %s", dv.ID, last.id)
					}
				}
				first = false
				last.active, last.at, last.id = dv.Active, dv.ActivatedAt, dv.ID
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		close(stop)
		wg.Wait()
		for id, c := range seen {
			if c != 1 {
				t.Errorf("device %s listed %d times", id, c)
			}
		}
		for i := 1; i <= n; i++ {
			if seen[fmt.Sprint("dev_seed_", i)] != 1 {
				t.Fatalf("seeded device dev_seed_%d missing", i)
			}
		}
		if pages < n/337 {
			t.Errorf("%d pages for %d devices", pages, n)
		}
		t.Logf("%s: %d pages, %d devices listed, %d added while paging", d, pages, len(seen), added)

		// A cursor the server did not issue is refused.
		_, err := f.Devices.PageDevices(f.Ctx, acct.ID, paging.Request{Cursor: paging.Encode("2", "x", "y")})
		wantCode(t, err, protocol.ErrInvalidRequest)
		_, err = f.Devices.PageDevices(f.Ctx, acct.ID, paging.Request{Cursor: "%%%"})
		wantCode(t, err, protocol.ErrInvalidRequest)
	})
}

// TestPageLicenses pages an owner's licenses two at a time: all of them,
// oldest first, once each, with the total.
func TestPageLicenses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, noChurnLimit)
		acct := f.Account("owner@example.com")
		f.Account("other@example.com")
		f.License("other@example.com", 1, time.Time{})
		for range 5 {
			f.License("owner@example.com", 1, time.Time{})
		}
		all, err := f.Licenses.ListLicenses(f.Ctx, acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, l := range all {
			want = append(want, l.ID)
		}
		var got []string
		cursor := ""
		for {
			p, err := f.Licenses.PageLicenses(f.Ctx, acct.ID, paging.Request{Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != 5 {
				t.Fatalf("total = %d, want 5", p.Total)
			}
			for _, l := range p.Items {
				got = append(got, l.ID)
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("paged %v, want %v", got, want)
		}
	})
}
