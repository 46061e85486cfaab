package commands_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/commands"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// notifier records the devices told to check in.
type notifier struct {
	mu  sync.Mutex
	got []string
}

func (n *notifier) Notify(_ context.Context, deviceID string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, deviceID)
}

type setup struct {
	*apptest.Fixture
	cmds   *commands.Service
	notify *notifier
	dev    protocol.ActivateResponse
	fp     string
}

func newSetup(t *testing.T, d store.Dialect, mode string) *setup {
	n := &notifier{}
	f := apptest.New(t, d, func(c *app.Config) { c.Notify = n })
	f.Account("owner@example.com")
	l, err := f.Licenses.CreateLicense(f.Ctx, licenses.LicenseSpec{OwnerEmail: "owner@example.com",
		Plan: licenses.Plan{Name: "Pro", Features: []string{"sign"}, MaxProfiles: 5}, Seats: 2, ManagementMode: mode})
	if err != nil {
		t.Fatal(err)
	}
	fp := apptest.FP("laptop")
	return &setup{Fixture: f, cmds: f.App.Commands, notify: n, dev: f.ActivateKey(l.Key, fp), fp: fp}
}

func (s *setup) checkin(results ...protocol.CommandResult) (protocol.CheckinResponse, error) {
	return s.Devices.Checkin(s.Ctx, s.dev.Credential, protocol.CheckinRequest{Fingerprint: s.fp, Device: apptest.Facts("laptop"), CommandResults: results})
}

func TestLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		s := newSetup(t, d, licenses.ManagedLocalRemote)
		rec, err := s.cmds.Enqueue(s.Ctx, commands.Queue{DeviceID: s.dev.DeviceID, Type: protocol.CmdShowMessage,
			Args: map[string]string{"message": "Bonjour"}, Actor: "account:admin"})
		if err != nil || rec.Status != protocol.CommandPending {
			t.Fatalf("enqueue: %+v, %v", rec, err)
		}
		if len(s.notify.got) != 1 || s.notify.got[0] != s.dev.DeviceID {
			t.Fatalf("notified %v", s.notify.got)
		}
		// A second open command of the same type is refused.
		_, err = s.cmds.Enqueue(s.Ctx, commands.Queue{DeviceID: s.dev.DeviceID, Type: protocol.CmdShowMessage,
			Args: map[string]string{"message": "again"}, Actor: "account:admin"})
		apptest.WantCode(t, err, protocol.ErrCommandPending)

		resp, err := s.checkin()
		if err != nil || len(resp.Commands) != 1 || resp.Commands[0].ID != rec.ID || resp.Commands[0].Args["message"] != "Bonjour" {
			t.Fatalf("check-in: %+v, %v", resp, err)
		}
		if got, _ := s.cmds.Get(s.Ctx, s.dev.DeviceID, rec.ID); got.Status != protocol.CommandDelivered || got.DeliveredAt == nil {
			t.Fatalf("after delivery: %+v", got)
		}
		// Delivered again until reported.
		if resp, _ := s.checkin(); len(resp.Commands) != 1 {
			t.Fatalf("redelivery: %+v", resp.Commands)
		}
		result := protocol.CommandResult{ID: rec.ID, Status: protocol.CommandSucceeded}
		if resp, err := s.checkin(result); err != nil || len(resp.Commands) != 0 {
			t.Fatalf("report: %+v, %v", resp, err)
		}
		if _, err := s.checkin(result); err != nil { // reported twice: harmless
			t.Fatal(err)
		}
		got, _ := s.cmds.Get(s.Ctx, s.dev.DeviceID, rec.ID)
		if got.Status != protocol.CommandSucceeded || got.CompletedAt == nil {
			t.Fatalf("after report: %+v", got)
		}
		if n := s.Audits("command.succeeded"); n != 1 {
			t.Fatalf("command.succeeded journaled %d times", n)
		}
		if n := s.Audits("command.delivered"); n != 1 {
			t.Fatalf("command.delivered journaled %d times", n)
		}
		if n := s.Count("SELECT open_commands FROM devices WHERE id = ?", s.dev.DeviceID); n != 0 {
			t.Fatalf("open_commands = %d after the report", n)
		}
		// The type is free again.
		if _, err := s.cmds.Enqueue(s.Ctx, commands.Queue{DeviceID: s.dev.DeviceID, Type: protocol.CmdShowMessage,
			Args: map[string]string{"message": "encore"}, Actor: "account:admin"}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		local := newSetup(t, d, licenses.ManagedLocal)
		before := local.Snapshot()
		_, err := local.cmds.Enqueue(local.Ctx, commands.Queue{DeviceID: local.dev.DeviceID, Type: protocol.CmdDeactivate, Actor: "operator"})
		apptest.WantCode(t, err, protocol.ErrLocalOnly)
		if local.Snapshot() != before {
			t.Fatal("a refused command changed the database")
		}
		s := newSetup(t, d, "")
		tests := []struct {
			name string
			q    commands.Queue
			code string
		}{
			{"unknown device", commands.Queue{DeviceID: "dev_nope", Type: protocol.CmdSuspend}, protocol.ErrNotFound},
			{"unknown type", commands.Queue{DeviceID: s.dev.DeviceID, Type: "reboot"}, protocol.ErrInvalidRequest},
			{"bad args", commands.Queue{DeviceID: s.dev.DeviceID, Type: protocol.CmdShowMessage}, protocol.ErrInvalidRequest},
			{"ttl too long", commands.Queue{DeviceID: s.dev.DeviceID, Type: protocol.CmdSuspend, TTL: 365 * 24 * time.Hour}, protocol.ErrInvalidRequest},
		}
		for _, tc := range tests {
			_, err := s.cmds.Enqueue(s.Ctx, tc.q)
			apptest.WantCode(t, err, tc.code)
		}
	})
}

func TestDeactivateFreesSeatAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		s := newSetup(t, d, licenses.ManagedRemote)
		rec, err := s.cmds.Enqueue(s.Ctx, commands.Queue{DeviceID: s.dev.DeviceID, Type: protocol.CmdDeactivate, Actor: "account:admin"})
		if err != nil || rec.Status != protocol.CommandSucceeded {
			t.Fatalf("deactivate: %+v, %v", rec, err)
		}
		if n := s.Count("SELECT seats_used FROM licenses"); n != 0 {
			t.Fatalf("seats used %d", n)
		}
		_, err = s.checkin()
		apptest.WantCode(t, err, protocol.ErrDeviceRevoked)
		if n := s.Audits("command.deactivate"); n != 1 {
			t.Fatalf("command.deactivate journaled %d times", n)
		}
		_, err = s.cmds.Enqueue(s.Ctx, commands.Queue{DeviceID: s.dev.DeviceID, Type: protocol.CmdSuspend, Actor: "account:admin"})
		apptest.WantCode(t, err, protocol.ErrDeviceRevoked)
	})
}

func TestSuspendResume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		s := newSetup(t, d, "")
		sus, err := s.cmds.Enqueue(s.Ctx, commands.Queue{DeviceID: s.dev.DeviceID, Type: protocol.CmdSuspend, Actor: "operator"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.checkin()
		apptest.WantCode(t, err, protocol.ErrDeviceSuspended)
		// The suspended computer's report is still recorded.
		_, err = s.checkin(protocol.CommandResult{ID: sus.ID, Status: protocol.CommandSucceeded})
		apptest.WantCode(t, err, protocol.ErrDeviceSuspended)
		if got, _ := s.cmds.Get(s.Ctx, s.dev.DeviceID, sus.ID); got.Status != protocol.CommandSucceeded {
			t.Fatalf("suspend command after report: %+v", got)
		}
		if n := s.Count("SELECT seats_used FROM licenses"); n != 1 {
			t.Fatalf("a suspended computer keeps its seat; seats used %d", n)
		}
		res, err := s.cmds.Enqueue(s.Ctx, commands.Queue{DeviceID: s.dev.DeviceID, Type: protocol.CmdResume, Actor: "operator"})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := s.checkin()
		if err != nil || len(resp.Commands) != 1 || resp.Commands[0].ID != res.ID {
			t.Fatalf("after resume: %+v, %v", resp, err)
		}
	})
}

func TestExpireAndList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		s := newSetup(t, d, "")
		var ids []string
		for _, typ := range []string{protocol.CmdRefreshLease, protocol.CmdSendInventory, protocol.CmdSuspend} {
			r, err := s.cmds.Enqueue(s.Ctx, commands.Queue{DeviceID: s.dev.DeviceID, Type: typ, TTL: time.Hour, Actor: "operator"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
			s.Clock.Advance(time.Second)
		}
		s.Clock.Advance(2 * time.Hour)
		n, err := s.cmds.Expire(s.Ctx, 2)
		if err != nil || n != 2 {
			t.Fatalf("expire: %d, %v", n, err)
		}
		if n, _ := s.cmds.Expire(s.Ctx, 10); n != 1 {
			t.Fatalf("second sweep expired %d", n)
		}
		if n := s.Audits("command.expired"); n != 3 {
			t.Fatalf("command.expired journaled %d times", n)
		}
		if n := s.Count("SELECT open_commands FROM devices WHERE id = ?", s.dev.DeviceID); n != 0 {
			t.Fatalf("open_commands = %d", n)
		}
		var seen []string
		req := paging.Request{Limit: 2}
		for {
			p, err := s.cmds.List(s.Ctx, s.dev.DeviceID, req)
			if err != nil || p.Total != 3 {
				t.Fatalf("list: %+v, %v", p, err)
			}
			for _, r := range p.Items {
				if r.Status != protocol.CommandExpired {
					t.Fatalf("%+v not expired", r)
				}
				seen = append(seen, r.ID)
			}
			if p.NextCursor == "" {
				break
			}
			req.Cursor = p.NextCursor
		}
		if len(seen) != 3 || seen[0] != ids[0] || seen[2] != ids[2] {
			t.Fatalf("paged %v, want %v", seen, ids)
		}
	})
}

// Concurrent queuing of one type for one device: exactly one is queued.
func TestEnqueueRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		s := newSetup(t, d, "")
		_, errs := apptest.Concurrently(20, func(int) (commands.Record, error) {
			return s.cmds.Enqueue(s.Ctx, commands.Queue{DeviceID: s.dev.DeviceID, Type: protocol.CmdRefreshLease, Actor: "operator"})
		})
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				apptest.WantCode(t, err, protocol.ErrCommandPending)
			}
		}
		if ok != 1 || s.Count("SELECT count(*) FROM device_commands") != 1 || s.Count("SELECT open_commands FROM devices") != 1 {
			t.Fatalf("%d queued", ok)
		}
	})
}
