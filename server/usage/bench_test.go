package usage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
	"github.com/entitle/entitle/server/usage"
)

// bulk inserts rows in transactions of 2,000 statements.
func bulk(b *testing.B, db *store.DB, n int, row func(i int) (string, []any)) {
	b.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += 2000 {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for i := start; i < min(n, start+2000); i++ {
				q, args := row(i)
				if _, err := tx.Exec(ctx, q, args...); err != nil {
					return fmt.Errorf("row %d: %w", i, err)
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// seedOrgDevices gives org subs subscriptions and devs computers (one
// license per 5), half seen recently, each reporting profiles.
func seedOrgDevices(b *testing.B, db *store.DB, org string, subs, devs int) {
	s := &seed{t: b, db: db, ctx: context.Background()}
	s.exec("INSERT INTO accounts (id, email, password_hash, created_at) VALUES (?, ?, 'x', 0)", "acc-"+org, org+"@example.com")
	s.org(org)
	s.plan("plan-"+org, "Plan "+org)
	for i := range subs {
		s.sub(sub{id: fmt.Sprintf("%s-s%d", org, i), org: org, plan: "plan-" + org, seats: devs, assigned: devs / 5 / subs,
			start: t0.Add(-day), end: t0.Add(time.Duration(i+1) * 10 * day)})
	}
	lics := devs / 5
	bulk(b, db, lics, func(i int) (string, []any) {
		var sub any // one member holds one live assignment per subscription
		if i < subs {
			sub = fmt.Sprintf("%s-s%d", org, i)
		}
		return `INSERT INTO licenses (id, license_key, owner_account_id, plan, features, max_profiles, seats, term_start, created_at,
			organization_id, subscription_id) VALUES (?, ?, ?, 'Pro', 'sign', 5, 5, 0, 0, ?, ?)`,
			[]any{fmt.Sprintf("%s-l%d", org, i), fmt.Sprintf("%s-k%d", org, i), "acc-" + org, org, sub}
	})
	bulk(b, db, devs, func(i int) (string, []any) {
		return `INSERT INTO devices (id, license_id, fingerprint, product, hostname, credential_hash, activated_at, last_seen_at, profiles)
			VALUES (?, ?, ?, 'signer', ?, ?, 0, ?, ?)`,
			[]any{fmt.Sprintf("%s-d%d", org, i), fmt.Sprintf("%s-l%d", org, i/5), fmt.Sprint("fp", i), fmt.Sprint("host", i),
				fmt.Sprintf("%s-c%d", org, i), store.Millis(t0.Add(-time.Duration(i%2) * time.Hour)), profiles(t0.Add(time.Duration(i%60) * day))}
	})
}

// BenchmarkOverview: the overview of an organization of 10,000 computers,
// beside another of 20,000 (the page's target is 100 ms of server time).
func BenchmarkOverview(b *testing.B) {
	storetest.EachBench(b, func(b *testing.B, d store.Dialect) {
		db := storetest.Open(b, d)
		seedOrgDevices(b, db, "big", 10, 10_000)
		seedOrgDevices(b, db, "other", 10, 20_000)
		svc, err := usage.New(db, usage.Config{})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.ResetTimer()
		for b.Loop() {
			ov, err := svc.Overview(ctx, "big", t0)
			if err != nil {
				b.Fatal(err)
			}
			if ov.Devices.Total != 10_000 || ov.Certificates.Expiring == 0 {
				b.Fatalf("overview %+v", ov.Devices)
			}
		}
	})
}

// BenchmarkSnapshot: one day's snapshot of 10,000 organizations with two
// subscriptions each.
func BenchmarkSnapshot(b *testing.B) {
	storetest.EachBench(b, func(b *testing.B, d store.Dialect) {
		db := storetest.Open(b, d)
		s := newSeed(b, db)
		s.plan("pro", "Pro")
		const orgs = 10_000
		bulk(b, db, orgs, func(i int) (string, []any) {
			return "INSERT INTO organizations (id, name, created_at) VALUES (?, 'o', 0)", []any{fmt.Sprintf("o%05d", i)}
		})
		bulk(b, db, 2*orgs, func(i int) (string, []any) {
			return `INSERT INTO subscriptions (id, organization_id, plan_id, seats, assigned, term_months, term_start, term_end, created_at)
				VALUES (?, ?, 'pro', 10, 3, 12, ?, ?, 0)`, []any{fmt.Sprint("s", i), fmt.Sprintf("o%05d", i/2), store.Millis(t0.Add(-day)), store.Millis(t0.Add(day))}
		})
		svc, err := usage.New(db, usage.Config{})
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for b.Loop() {
			run, err := svc.Snapshot(context.Background(), t0)
			if err != nil || run.Subscriptions != 2*orgs {
				b.Fatalf("%+v, %v", run, err)
			}
		}
	})
}
