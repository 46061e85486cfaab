package usage_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
	"github.com/entitle/entitle/server/usage"
)

var t0 = time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

func newService(t *testing.T, db *store.DB, c *clock, batch int) *usage.Service {
	t.Helper()
	s, err := usage.New(db, usage.Config{Now: c.Now, Batch: batch, CheckinInterval: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rowsOf reads the snapshots of day as "org/sub plan seats/assigned/devices".
func rowsOf(t *testing.T, db *store.DB, d time.Time) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT organization_id, subscription_id, plan_id, seats, assigned, active_devices
		FROM seat_usage WHERE day = ? ORDER BY organization_id, subscription_id`, store.Millis(usage.Day(d)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var org, sub, plan string
		var seats, assigned, devs int
		if err := rows.Scan(&org, &sub, &plan, &seats, &assigned, &devs); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s/%s %s %d/%d/%d", org, sub, plan, seats, assigned, devs))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// threeOrgs seeds organizations a, b, c (c without subscriptions) with live,
// ended and future subscriptions and computers on them.
func threeOrgs(s *seed) {
	for _, o := range []string{"a", "b", "c"} {
		s.org(o)
	}
	s.plan("pro", "Pro")
	s.plan("team", "Team")
	s.sub(sub{id: "a1", org: "a", plan: "pro", seats: 10, assigned: 3, start: t0.Add(-30 * day), end: t0.Add(300 * day)})
	s.sub(sub{id: "a2", org: "a", plan: "team", seats: 5, assigned: 5, start: t0.Add(-30 * day), end: t0.Add(300 * day), suspended: true})
	s.sub(sub{id: "a3", org: "a", plan: "pro", seats: 9, assigned: 0, start: t0.Add(-400 * day), end: t0.Add(-1 * day)}) // ended
	s.sub(sub{id: "a4", org: "a", plan: "pro", seats: 9, assigned: 0, start: t0.Add(5 * day), end: t0.Add(400 * day)})   // not started
	s.sub(sub{id: "b1", org: "b", plan: "pro", seats: 2, assigned: 1, start: t0.Add(-1 * day), end: t0.Add(10 * day)})
	l1 := s.license("a", "a1", false, false)
	s.device(dev{license: l1, seen: t0})
	s.device(dev{license: l1, seen: t0, suspended: true}) // suspended: still active
	s.device(dev{license: l1, seen: t0, deactivated: true})
	revoked := s.license("a", "a1", true, false)
	s.device(dev{license: revoked, seen: t0}) // on a revoked license: not counted
	l2 := s.license("b", "b1", false, false)
	s.device(dev{license: l2, seen: t0})
}

func TestSnapshot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		db := storetest.Open(t, d)
		s := newSeed(t, db)
		threeOrgs(s)
		c := &clock{now: t0}
		for _, batch := range []int{1, 2, 3, 500} {
			t.Run(fmt.Sprint("batch ", batch), func(t *testing.T) {
				svc := newService(t, db, c, batch)
				run, err := svc.Snapshot(ctx, t0)
				if err != nil {
					t.Fatal(err)
				}
				if run.Organizations != 3 || run.Subscriptions != 3 || run.Batches != (3+batch-1)/batch || !run.Day.Equal(usage.Day(t0)) {
					t.Errorf("run %+v", run)
				}
				want := []string{"a/a1 pro 10/3/2", "a/a2 team 5/5/0", "b/b1 pro 2/1/1"}
				if got := rowsOf(t, db, t0); !slices.Equal(got, want) {
					t.Errorf("rows %q, want %q", got, want)
				}
			})
		}
		// A re-run of the day replaces its rows; the next day adds its own.
		s.exec("UPDATE subscriptions SET assigned = 4 WHERE id = 'a1'")
		svc := newService(t, db, c, 2)
		if _, err := svc.Snapshot(ctx, t0.Add(11*time.Hour)); err != nil { // 23:00, same day
			t.Fatal(err)
		}
		if got := rowsOf(t, db, t0); !slices.Equal(got, []string{"a/a1 pro 10/4/2", "a/a2 team 5/5/0", "b/b1 pro 2/1/1"}) {
			t.Errorf("after re-run: %q", got)
		}
		s.exec("UPDATE subscriptions SET assigned = 6, seats = 12 WHERE id = 'a1'")
		if _, err := svc.Snapshot(ctx, t0.Add(day)); err != nil {
			t.Fatal(err)
		}
		if got := rowsOf(t, db, t0.Add(day)); !slices.Equal(got, []string{"a/a1 pro 12/6/2", "a/a2 team 5/5/0", "b/b1 pro 2/1/1"}) {
			t.Errorf("next day: %q", got)
		}
		if got := rowsOf(t, db, t0); len(got) != 3 || got[0] != "a/a1 pro 10/4/2" {
			t.Errorf("the first day changed: %q", got)
		}

		hist, err := svc.History(ctx, "a", t0.Add(-5*day), t0.Add(5*day))
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 4 || hist[0].SubscriptionID != "a1" || !hist[0].Day.Equal(usage.Day(t0)) || hist[3].Seats != 5 || hist[3].PlanID != "team" {
			t.Errorf("history %+v", hist)
		}
		all := usage.Totals(hist, "")
		want := []usage.DayTotal{{Day: usage.Day(t0), Seats: 15, Assigned: 9, ActiveDevices: 2}, {Day: usage.Day(t0.Add(day)), Seats: 17, Assigned: 11, ActiveDevices: 2}}
		if !slices.Equal(all, want) {
			t.Errorf("totals %+v, want %+v", all, want)
		}
		if pro := usage.Totals(hist, "pro"); len(pro) != 2 || pro[1].Seats != 12 || pro[1].Assigned != 6 {
			t.Errorf("pro totals %+v", pro)
		}
		if got, err := svc.History(ctx, "a", t0.Add(day), t0.Add(day)); err != nil || len(got) != 2 {
			t.Errorf("one day: %d rows, %v", len(got), err)
		}
		if got, err := svc.History(ctx, "nobody", t0.Add(-5*day), t0.Add(5*day)); err != nil || len(got) != 0 {
			t.Errorf("unknown organization: %v, %v", got, err)
		}
	})
}

func TestHistoryRefusesBadRanges(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	svc := newService(t, db, &clock{now: t0}, 0)
	for _, tc := range []struct {
		name     string
		from, to time.Time
	}{
		{"reversed", t0, t0.Add(-day)},
		{"too long", t0.Add(-usage.MaxHistoryDays * day), t0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := svc.History(context.Background(), "a", tc.from, tc.to)
			if !fault.Is(err, protocol.ErrInvalidRequest) || got != nil {
				t.Errorf("History: %v, %v", got, err)
			}
		})
	}
	if _, err := svc.History(context.Background(), "a", t0.Add(-(usage.MaxHistoryDays-1)*day), t0); err != nil {
		t.Errorf("the longest range: %v", err)
	}
}

// TestRunDue: the job snapshots at its first run and once a day after,
// however often it is woken.
func TestRunDue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		db := storetest.Open(t, d)
		threeOrgs(newSeed(t, db))
		c := &clock{now: t0}
		svc := newService(t, db, c, 2)
		for i, step := range []struct {
			at   time.Time
			want bool
		}{
			{t0, true},
			{t0.Add(time.Hour), false},
			{t0.Add(11*time.Hour + 59*time.Minute), false},
			{t0.Add(12 * time.Hour), true}, // 00:00 UTC the next day
			{t0.Add(13 * time.Hour), false},
			{t0.Add(3 * day), true},
		} {
			c.Set(step.at)
			ran, err := svc.RunDue(ctx)
			if err != nil || ran != step.want {
				t.Errorf("step %d at %s: ran %v, %v; want %v", i, step.at, ran, err, step.want)
			}
		}
		var days int
		if err := db.QueryRow(ctx, "SELECT COUNT(DISTINCT day) FROM seat_usage").Scan(&days); err != nil || days != 3 {
			t.Errorf("%d days recorded, %v", days, err)
		}
		var runs, subs int
		if err := db.QueryRow(ctx, "SELECT COUNT(*), MIN(subscriptions) FROM seat_usage_runs").Scan(&runs, &subs); err != nil || runs != 3 || subs != 3 {
			t.Errorf("%d runs of min %d subscriptions, %v", runs, subs, err)
		}
	})
}

// TestSnapshotConcurrent: two server instances taking the same day at once
// both succeed and leave one row per subscription.
func TestSnapshotConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		s := newSeed(t, db)
		s.plan("pro", "Pro")
		for i := range 40 {
			o := fmt.Sprintf("o%02d", i)
			s.org(o)
			s.sub(sub{id: o + "-s", org: o, plan: "pro", seats: 3, assigned: 1, start: t0.Add(-day), end: t0.Add(day)})
		}
		c := &clock{now: t0}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = newService(t, db, c, 7).Snapshot(context.Background(), t0)
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("instance %d: %v", i, err)
			}
		}
		if got := rowsOf(t, db, t0); len(got) != 40 {
			t.Errorf("%d rows, want 40", len(got))
		}
	})
}

func TestSnapshotStopsWithContext(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	threeOrgs(newSeed(t, db))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	svc := newService(t, db, &clock{now: t0}, 1)
	if _, err := svc.Snapshot(ctx, t0); err == nil {
		t.Fatal("Snapshot ran under a cancelled context")
	}
	if got := rowsOf(t, db, t0); len(got) != 0 {
		t.Errorf("rows written: %q", got)
	}
	if ran, err := svc.RunDue(ctx); err == nil || ran {
		t.Errorf("RunDue: %v, %v", ran, err)
	}
}

// TestRetention: a day's run deletes the snapshots and runs older than the
// retention, and only those.
func TestRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		db := storetest.Open(t, d)
		s := newSeed(t, db)
		threeOrgs(s)
		svc, err := usage.New(db, usage.Config{Now: (&clock{now: t0}).Now, Retention: time.Hour}) // raised to MaxHistoryDays
		if err != nil {
			t.Fatal(err)
		}
		keep := usage.MaxHistoryDays * day
		for _, at := range []time.Time{t0.Add(-keep - day), t0.Add(-keep), t0.Add(-day)} {
			for _, sub := range []string{"x1", "x2", "x3"} {
				s.exec(`INSERT INTO seat_usage (organization_id, day, subscription_id, plan_id, seats, assigned, active_devices, taken_at)
					VALUES ('a', ?, ?, 'pro', 1, 1, 0, 0)`, store.Millis(usage.Day(at)), sub)
			}
			s.exec("INSERT INTO seat_usage_runs (day, started_at, finished_at, subscriptions) VALUES (?, 0, 0, 3)", store.Millis(usage.Day(at)))
		}
		run, err := svc.Snapshot(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		if run.Pruned != 3 {
			t.Errorf("pruned %d rows, want the 3 of the oldest day", run.Pruned)
		}
		var days, runs int
		if err := db.QueryRow(ctx, "SELECT COUNT(DISTINCT day) FROM seat_usage").Scan(&days); err != nil || days != 3 {
			t.Errorf("%d days kept, %v", days, err)
		}
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM seat_usage_runs").Scan(&runs); err != nil || runs != 3 { // today's, and two
			t.Errorf("%d runs kept, %v", runs, err)
		}
		if got := rowsOf(t, db, t0.Add(-keep)); len(got) != 3 {
			t.Errorf("the day at the edge of the retention: %q", got)
		}
	})
}
