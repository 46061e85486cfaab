package usage_test

import (
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
	"github.com/entitle/entitle/server/usage"
)

// TestCheckinProfilesReachTheOverview: a computer's check-in, through the
// real devices domain, stores its profile summary so that the overview reads
// its earliest certificate and its last contact; and the app runs the
// snapshot as one of its background jobs.
func TestCheckinProfilesReachTheOverview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := apptest.New(t, d, func(c *app.Config) { c.CheckinInterval = 5 * time.Minute })
		now := f.Clock.Now()
		s := newSeed(t, f.DB)
		s.org("a")
		f.Account("admin@example.com")
		lic := f.License("admin@example.com", 2, now.Add(365*day))
		s.exec("UPDATE licenses SET organization_id = 'a' WHERE id = ?", lic.ID)
		act := f.ActivateKey(lic.Key, apptest.FP("pc"))
		until := now.Add(12 * day).Truncate(time.Second)
		_, err := f.Devices.Checkin(f.Ctx, act.Credential, protocol.CheckinRequest{Fingerprint: apptest.FP("pc"),
			Device: apptest.Facts("pc"), Profiles: &protocol.ProfileSummary{Total: 1, Expiring: 1, EarliestCertUntil: until.Unix()}})
		if err != nil {
			t.Fatal(err)
		}
		ov, err := f.App.Usage.Overview(f.Ctx, "a", now)
		if err != nil {
			t.Fatal(err)
		}
		if c := ov.Certificates; c.Expiring != 1 || len(c.Soon) != 1 || !c.Soon[0].NotAfter.Equal(until) || c.Soon[0].DeviceID != act.DeviceID {
			t.Errorf("certificates %+v", c)
		}
		if ov.Devices.Online != 1 || ov.Devices.Total != 1 {
			t.Errorf("devices %+v", ov.Devices)
		}
		// Twice the configured interval later the computer is offline.
		f.Clock.Advance(10*time.Minute + time.Millisecond)
		if ov, err = f.App.Usage.Overview(f.Ctx, "a", f.Clock.Now()); err != nil || ov.Devices.Offline != 1 {
			t.Errorf("later: %+v, %v", ov.Devices, err)
		}

		var job *app.Job
		for _, j := range f.App.Jobs() {
			if j.Name == "usage.snapshot" {
				job = &j
			}
		}
		if job == nil || job.Every > 24*time.Hour {
			t.Fatalf("no daily usage.snapshot job: %+v", job)
		}
		for range 2 {
			if err := job.Run(f.Ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.Count("SELECT COUNT(*) FROM seat_usage_runs WHERE day = ?", store.Millis(usage.Day(f.Clock.Now()))); n != 1 {
			t.Errorf("%d runs today", n)
		}
	})
}
