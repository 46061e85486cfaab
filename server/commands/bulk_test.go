package commands_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/commands"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// bulkWorld is an organization with remote, local and deactivated
// computers, and a computer of another organization.
type bulkWorld struct {
	*apptest.Fixture
	notify                           *notifier
	org                              string
	remote                           []string // three remote-managed computers
	local, gone, foreign, personalID string
}

func newBulkWorld(t *testing.T, d store.Dialect) *bulkWorld {
	t.Helper()
	n := &notifier{}
	f := apptest.New(t, d, func(c *app.Config) { c.Notify = n; apptest.NoChurnLimit(c) })
	w := &bulkWorld{Fixture: f, notify: n}
	for _, e := range []string{"ana@acme.example", "bob@acme.example", "eve@rival.example", "solo@home.example"} {
		f.Account(e)
	}
	org, err := f.App.Organizations.Create(f.Ctx, "operator:test", "Acme", "")
	if err != nil {
		t.Fatal(err)
	}
	rival, err := f.App.Organizations.Create(f.Ctx, "operator:test", "Rival", "")
	if err != nil {
		t.Fatal(err)
	}
	w.org = org.ID
	ana := apptest.OrgLicense(t, f.App, f.DB, w.org, "ana@acme.example", "Pro", 10, licenses.ManagedRemote)
	bob := apptest.OrgLicense(t, f.App, f.DB, w.org, "bob@acme.example", "Pro", 10, licenses.ManagedLocal)
	eve := apptest.OrgLicense(t, f.App, f.DB, rival.ID, "eve@rival.example", "Pro", 10, licenses.ManagedRemote)
	solo := f.License("solo@home.example", 2, apptest.NewClock().Now().AddDate(5, 0, 0))
	for i := range 3 {
		w.remote = append(w.remote, f.ActivateKey(ana.Key, apptest.FP(fmt.Sprint("r", i))).DeviceID)
	}
	w.local = f.ActivateKey(bob.Key, apptest.FP("local")).DeviceID
	w.gone = f.ActivateKey(ana.Key, apptest.FP("gone")).DeviceID
	if err := f.Devices.ReleaseOrgDevice(f.Ctx, "operator:test", w.org, w.gone); err != nil {
		t.Fatal(err)
	}
	w.foreign = f.ActivateKey(eve.Key, apptest.FP("foreign")).DeviceID
	w.personalID = f.ActivateKey(solo.Key, apptest.FP("solo")).DeviceID
	return w
}

func (w *bulkWorld) bulk(key, typ string, devs ...string) commands.Bulk {
	b := commands.Bulk{Organization: w.org, Actor: "account:admin", Key: key, Type: typ, DeviceIDs: devs}
	if typ == protocol.CmdShowMessage {
		b.Args = map[string]string{"message": "Maintenance à 18 h"}
	}
	return b
}

func codes(out commands.BulkOutcome) map[string]string {
	m := map[string]string{}
	for _, r := range out.Results {
		if r.Code == "" {
			m[r.DeviceID] = "queued"
		} else {
			m[r.DeviceID] = r.Code
		}
	}
	return m
}

// TestBulkOutcomes: each computer is queued or refused on its own; one
// journal row names them; the queued ones are nudged; a second request of
// the same type finds them pending.
func TestBulkOutcomes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		w := newBulkWorld(t, d)
		all := append(slices.Clone(w.remote), w.local, w.gone, w.foreign, w.personalID, "dev_none")
		before := w.Audits("command.bulk")
		out, err := w.App.Commands.EnqueueBulk(w.Ctx, w.bulk("k1", protocol.CmdShowMessage, all...))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{w.remote[0]: "queued", w.remote[1]: "queued", w.remote[2]: "queued", w.local: protocol.ErrLocalOnly,
			w.gone: protocol.ErrDeviceRevoked, w.foreign: protocol.ErrNotFound, w.personalID: protocol.ErrNotFound, "dev_none": protocol.ErrNotFound}
		if got := codes(out); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("outcomes %v, want %v", got, want)
		}
		for i, r := range out.Results {
			if r.DeviceID != all[i] {
				t.Fatalf("result %d is %s, want the request's order (%s)", i, r.DeviceID, all[i])
			}
		}
		if n := w.Audits("command.bulk") - before; n != 1 {
			t.Errorf("%d bulk journal rows, want 1", n)
		}
		if n := w.Audits("command.queue"); n != 0 {
			t.Errorf("%d per-command rows: the bulk row is the request's one", n)
		}
		if n := w.Count("SELECT COUNT(*) FROM device_commands WHERE organization_id = ? AND status = 'pending'", w.org); n != 3 {
			t.Errorf("%d pending commands, want 3", n)
		}
		if got, want := slices.Sorted(slices.Values(w.notify.got)), slices.Sorted(slices.Values(w.remote)); !slices.Equal(got, want) {
			t.Errorf("nudged %v, want %v", w.notify.got, w.remote)
		}
		// The same type again, under a new key: pending everywhere.
		out, err = w.App.Commands.EnqueueBulk(w.Ctx, w.bulk("k2", protocol.CmdShowMessage, w.remote...))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Results {
			if r.Code != protocol.ErrCommandPending {
				t.Errorf("%s: %q, want command_pending", r.DeviceID, r.Code)
			}
		}
		// Deactivate frees the seats at once, under one row.
		rowsBefore := w.Count("SELECT COUNT(*) FROM audit_events")
		out, err = w.App.Commands.EnqueueBulk(w.Ctx, w.bulk("k3", protocol.CmdDeactivate, w.remote...))
		if err != nil || len(out.Results) != 3 || out.Results[0].Code != "" {
			t.Fatalf("deactivate: %+v %v", out, err)
		}
		if n := w.Count("SELECT COUNT(*) FROM audit_events") - rowsBefore; n != 1 {
			t.Errorf("bulk deactivate wrote %d journal rows, want 1", n)
		}
		if n := w.Count("SELECT COUNT(*) FROM devices WHERE organization_id = ? AND deactivated_at IS NULL", w.org); n != 1 {
			t.Errorf("%d active computers left, want 1 (the local one)", n)
		}
	})
}

// TestBulkIdempotent: a retry with the same key answers the first outcome
// and queues nothing, also when retried concurrently; the key with another
// request is refused, changing nothing.
func TestBulkIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		w := newBulkWorld(t, d)
		first, err := w.App.Commands.EnqueueBulk(w.Ctx, w.bulk("same", protocol.CmdRefreshLease, w.remote...))
		if err != nil || first.Replayed {
			t.Fatal(err, first.Replayed)
		}
		again, err := w.App.Commands.EnqueueBulk(w.Ctx, w.bulk("same", protocol.CmdRefreshLease, w.remote...))
		if err != nil || !again.Replayed || again.ID != first.ID || fmt.Sprint(again.Results) != fmt.Sprint(first.Results) {
			t.Fatalf("retry: %+v %v, first %+v", again, err, first)
		}
		before := w.Snapshot()
		_, err = w.App.Commands.EnqueueBulk(w.Ctx, w.bulk("same", protocol.CmdSuspend, w.remote...))
		apptest.WantCode(t, err, adminapi.ErrIdempotencyReused)
		_, err = w.App.Commands.EnqueueBulk(w.Ctx, w.bulk("same", protocol.CmdRefreshLease, w.remote[:1]...))
		apptest.WantCode(t, err, adminapi.ErrIdempotencyReused)
		if w.Snapshot() != before {
			t.Error("a refused retry changed the database")
		}

		// Concurrent first attempts: one queues, the others replay it.
		const n = 6
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			ids = map[string]int{}
		)
		for range n {
			wg.Go(func() {
				out, err := w.App.Commands.EnqueueBulk(w.Ctx, w.bulk("race", protocol.CmdShowMessage, w.remote...))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ids[out.ID]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(ids) != 1 {
			t.Errorf("concurrent retries made %d requests: %v", len(ids), ids)
		}
		if c := w.Count("SELECT COUNT(*) FROM device_commands WHERE type = 'show_message'"); c != 3 {
			t.Errorf("%d show_message commands, want 3", c)
		}
		if c := w.Audits("command.bulk"); c != 2 {
			t.Errorf("%d bulk rows, want 2 (one per key)", c)
		}
	})
}

// TestBulkRefusesBadRequests: nothing is stored or queued.
func TestBulkRefusesBadRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		w := newBulkWorld(t, d)
		many := make([]string, adminapi.MaxBulkDevices+1)
		for i := range many {
			many[i] = fmt.Sprint("dev_", i)
		}
		for name, tc := range map[string]struct {
			b    commands.Bulk
			code string
		}{
			"no key":          {w.bulk("", protocol.CmdRefreshLease, w.remote...), protocol.ErrInvalidRequest},
			"unknown type":    {w.bulk("k", "reboot", w.remote...), protocol.ErrInvalidRequest},
			"no organization": {commands.Bulk{Key: "k", Type: protocol.CmdRefreshLease, DeviceIDs: w.remote}, protocol.ErrInvalidRequest},
			"no computer":     {w.bulk("k", protocol.CmdRefreshLease), protocol.ErrInvalidRequest},
			"too many":        {w.bulk("k", protocol.CmdRefreshLease, many...), adminapi.ErrTooManyDevices},
		} {
			t.Run(name, func(t *testing.T) {
				before := w.Snapshot() + fmt.Sprint(w.Count("SELECT COUNT(*) FROM command_bulk_requests"))
				_, err := w.App.Commands.EnqueueBulk(w.Ctx, tc.b)
				apptest.WantCode(t, err, tc.code)
				if after := w.Snapshot() + fmt.Sprint(w.Count("SELECT COUNT(*) FROM command_bulk_requests")); after != before {
					t.Error("changed the database")
				}
			})
		}
	})
}
