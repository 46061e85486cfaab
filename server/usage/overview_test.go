package usage_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
	"github.com/entitle/entitle/server/usage"
)

// profiles is the JSON the server stores from a check-in's
// protocol.ProfileSummary with its earliest certificate at until.
func profiles(until time.Time) string {
	return fmt.Sprintf(`{"total":2,"valid":1,"expiring":1,"expired":0,"invalid":0,"unlicensed":0,"earliest_cert_until":%d}`, until.Unix())
}

func TestOverview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		db := storetest.Open(t, d)
		s := newSeed(t, db)
		s.org("a")
		s.org("other")
		s.plan("pro", "Pro")
		s.plan("team", "Team")
		s.plan("zeta", "Zeta")
		// Seats: Pro has two live subscriptions, Team one suspended, Zeta only an ended one.
		s.sub(sub{id: "a1", org: "a", plan: "pro", seats: 10, assigned: 3, start: t0.Add(-30 * day), end: t0.Add(20 * day)})
		s.sub(sub{id: "a2", org: "a", plan: "pro", seats: 5, assigned: 5, start: t0.Add(-30 * day), end: t0.Add(300 * day), noAutoRenew: true})
		s.sub(sub{id: "a3", org: "a", plan: "team", seats: 4, assigned: 1, start: t0.Add(-30 * day), end: t0.Add(5 * day), suspended: true, renewalOrder: "ord-r"})
		s.sub(sub{id: "a4", org: "a", plan: "zeta", seats: 9, start: t0.Add(-400 * day), end: t0.Add(-day)})
		s.sub(sub{id: "a5", org: "a", plan: "pro", seats: 1, start: t0.Add(-30 * day), end: t0.Add(30*day + time.Second)}) // just past the window
		s.sub(sub{id: "o1", org: "other", plan: "pro", seats: 50, assigned: 50, start: t0.Add(-30 * day), end: t0.Add(2 * day)})

		interval := 10 * time.Minute // newService's check-in interval: online within 20 minutes
		member := s.license("a", "a1", false, false)
		suspendedLic := s.license("a", "a2", false, true)
		subSuspended := s.license("a", "a3", false, false)
		ws := s.license("", "", false, false)
		s.workspace("a", ws)
		personal := s.license("", "", false, false)
		otherOrg := s.license("other", "o1", false, false)

		s.device(dev{license: member, host: "m-online", seen: t0.Add(-2*interval + time.Second), profiles: profiles(t0.Add(3 * day))})
		s.device(dev{license: member, host: "m-edge", seen: t0.Add(-2 * interval)}) // exactly 2x: still online
		s.device(dev{license: member, host: "m-offline", seen: t0.Add(-2*interval - time.Millisecond), profiles: profiles(t0.Add(-day))})
		s.device(dev{license: member, host: "m-suspended", seen: t0, suspended: true, profiles: profiles(t0.Add(29 * day))})
		s.device(dev{license: member, host: "m-gone", seen: t0, deactivated: true, profiles: profiles(t0.Add(day))})
		s.device(dev{license: suspendedLic, host: "l-suspended", seen: t0, profiles: profiles(t0.Add(31 * day))})
		s.device(dev{license: subSuspended, host: "s-suspended", seen: t0, profiles: `{"total":0,"valid":0,"expiring":0,"expired":0,"invalid":0,"unlicensed":0}`})
		wsDev := s.device(dev{license: ws, host: "ws-offline", seen: t0.Add(-day), profiles: profiles(t0.Add(3*day + time.Hour))})
		s.device(dev{license: personal, host: "personal", seen: t0, profiles: profiles(t0.Add(day))})
		s.device(dev{license: otherOrg, host: "other", seen: t0, profiles: profiles(t0.Add(day))})

		for _, st := range []string{"cart", "validated", "confirmed", "confirmed", "paid", "cancelled"} {
			s.order("a", st)
		}
		s.order("other", "validated")

		svc := newService(t, db, &clock{now: t0}, 0)
		ov, err := svc.Overview(ctx, "a", t0)
		if err != nil {
			t.Fatal(err)
		}
		wantPlans := []usage.PlanSeats{
			{PlanID: "pro", PlanCode: "code-pro", PlanName: "Pro", Subscriptions: 3, Seats: 16, Assigned: 8, Free: 8},
			{PlanID: "team", PlanCode: "code-team", PlanName: "Team", Subscriptions: 1, Suspended: 1, Seats: 4, Assigned: 1, Free: 0},
		}
		if !reflect.DeepEqual(ov.Plans, wantPlans) {
			t.Errorf("plans\n got %+v\nwant %+v", ov.Plans, wantPlans)
		}
		wantDevs := usage.DeviceCounts{Total: 7, Online: 2, Offline: 2, Suspended: 3, OnlineSince: t0.Add(-2 * interval)}
		if ov.Devices != wantDevs {
			t.Errorf("devices %+v, want %+v", ov.Devices, wantDevs)
		}
		if c := ov.Certificates; c.Expiring != 3 || c.Expired != 1 || len(c.Soon) != 3 ||
			c.Soon[0].Hostname != "m-online" || c.Soon[1].DeviceID != wsDev || c.Soon[2].Hostname != "m-suspended" ||
			!c.Soon[2].NotAfter.Equal(time.Unix(t0.Add(29*day).Unix(), 0)) {
			t.Errorf("certificates %+v", c)
		}
		l := ov.Licenses
		if l.Count != 2 || len(l.Soon) != 2 {
			t.Fatalf("licenses %+v", l)
		}
		want0 := usage.ExpiringLicense{SubscriptionID: "a3", PlanID: "team", PlanName: "Team", Seats: 4, Assigned: 1,
			TermEnd: t0.Add(5 * day), AutoRenew: true, RenewalOrderID: "ord-r"}
		if l.Soon[0] != want0 || l.Soon[1].SubscriptionID != "a1" || l.Soon[1].RenewalOrderID != "" {
			t.Errorf("expiring licenses %+v", l.Soon)
		}
		if ov.Orders != (usage.PendingOrders{Validated: 1, Confirmed: 2}) || ov.Orders.Total() != 3 {
			t.Errorf("orders %+v", ov.Orders)
		}

		empty, err := svc.Overview(ctx, "nobody", t0)
		if err != nil || len(empty.Plans) != 0 || empty.Devices.Total != 0 || empty.Licenses.Count != 0 ||
			empty.Certificates.Expiring != 0 || empty.Orders.Total() != 0 {
			t.Errorf("unknown organization: %+v, %v", empty, err)
		}
	})
}

// TestOverviewListsAtMostMaxListed: the counts are whole, the lists short.
func TestOverviewListsAtMostMaxListed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		s := newSeed(t, db)
		s.org("a")
		s.plan("pro", "Pro")
		n := usage.MaxListed + 5
		for i := range n {
			id := fmt.Sprintf("s%02d", i)
			s.sub(sub{id: id, org: "a", plan: "pro", seats: 1, start: t0.Add(-day), end: t0.Add(time.Duration(n-i) * time.Hour)})
			s.device(dev{license: s.license("a", id, false, false), host: id, seen: t0, profiles: profiles(t0.Add(time.Duration(n-i) * time.Hour))})
		}
		ov, err := newService(t, db, &clock{now: t0}, 0).Overview(context.Background(), "a", t0)
		if err != nil {
			t.Fatal(err)
		}
		last := fmt.Sprintf("s%02d", n-1)
		if ov.Licenses.Count != n || len(ov.Licenses.Soon) != usage.MaxListed || ov.Licenses.Soon[0].SubscriptionID != last {
			t.Errorf("licenses: %d, %d listed, first %+v", ov.Licenses.Count, len(ov.Licenses.Soon), ov.Licenses.Soon[0])
		}
		if c := ov.Certificates; c.Expiring != n || len(c.Soon) != usage.MaxListed || c.Soon[0].Hostname != last {
			t.Errorf("certificates: %d, %d listed, first %+v", c.Expiring, len(c.Soon), c.Soon[0])
		}
	})
}
