package devices_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
	"github.com/entitle/entitle/server/workspaces"
)

// orgWorld is two organizations with computers on their members' licenses,
// and one personal computer.
type orgWorld struct {
	*fixture
	org, other string
	dev        map[string]string // hostname -> device id
	lic        map[string]licenses.License
	acct       map[string]string // email -> account id
}

func newOrgWorld(t *testing.T, d store.Dialect) *orgWorld {
	t.Helper()
	f := newFixture(t, d, noChurnLimit)
	w := &orgWorld{fixture: f, dev: map[string]string{}, lic: map[string]licenses.License{}, acct: map[string]string{}}
	for _, e := range []string{"ana@acme.example", "bob@acme.example", "eve@rival.example", "solo@home.example"} {
		w.acct[e] = f.Account(e).ID
	}
	o, err := f.App.Organizations.Create(f.Ctx, "operator:test", "Acme", "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.App.Organizations.Create(f.Ctx, "operator:test", "Rival", "")
	if err != nil {
		t.Fatal(err)
	}
	w.org, w.other = o.ID, r.ID
	ana := apptest.OrgLicense(t, f.App, f.DB, w.org, "ana@acme.example", "Pro", 5, licenses.ManagedRemote)
	bob := apptest.OrgLicense(t, f.App, f.DB, w.org, "bob@acme.example", "Team", 5, licenses.ManagedLocal)
	eve := apptest.OrgLicense(t, f.App, f.DB, w.other, "eve@rival.example", "Pro", 5, licenses.ManagedRemote)
	solo := f.License("solo@home.example", 5, time.Time{})
	w.lic["ana"], w.lic["bob"] = ana, bob
	for i, c := range []struct{ key, host string }{
		{ana.Key, "ana-laptop"}, {ana.Key, "ana-desk"}, {bob.Key, "bob-mac"}, {bob.Key, "Build-Server"},
		{eve.Key, "eve-pc"}, {solo.Key, "solo-pc"},
	} {
		req := keyRequest(c.key, fp(c.host))
		req.Device = facts(c.host)
		resp, err := f.Devices.Activate(f.Ctx, req, testIP)
		if err != nil {
			t.Fatalf("activate %s: %v", c.host, err)
		}
		w.dev[c.host] = resp.DeviceID
		f.Clock.Advance(time.Minute * time.Duration(i+1))
	}
	return w
}

func (w *orgWorld) hosts(t *testing.T, f adminapi.DeviceFilter) []string {
	t.Helper()
	var out []string
	req := paging.Request{Limit: 2}
	var total int64
	for {
		p, err := w.Devices.PageOrgDevices(w.Ctx, w.org, f, req)
		if err != nil {
			t.Fatalf("PageOrgDevices(%+v): %v", f, err)
		}
		total = p.Total
		for _, d := range p.Items {
			out = append(out, d.Facts.Hostname)
		}
		if p.NextCursor == "" {
			break
		}
		req.Cursor = p.NextCursor
	}
	if int(total) != len(out) {
		t.Errorf("filter %+v: total %d, paged %d", f, total, len(out))
	}
	return out
}

// TestOrgDeviceList pages the organization's computers under each filter,
// search and sort, two at a time: only its own computers, in order, each
// once, with the total of the filter.
func TestOrgDeviceList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		w := newOrgWorld(t, d)
		// bob-mac is suspended, ana-desk deactivated; the clock then
		// moves past the online window for all but the two it refreshes.
		if _, err := w.DB.Exec(w.Ctx, "UPDATE devices SET suspended_at = last_seen_at WHERE id = ?", w.dev["bob-mac"]); err != nil {
			t.Fatal(err)
		}
		if err := w.Devices.ReleaseOrgDevice(w.Ctx, "operator:test", w.org, w.dev["ana-desk"]); err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(48 * time.Hour)
		if _, err := w.DB.Exec(w.Ctx, "UPDATE devices SET last_seen_at = ? WHERE id = ?", store.Millis(w.Clock.Now()), w.dev["ana-laptop"]); err != nil {
			t.Fatal(err)
		}
		ws, err := w.App.Workspaces.Create(w.Ctx, workspaces.Owner{AccountID: w.acct["bob@acme.example"]},
			accountapi.WorkspaceRequest{Name: "Builders", LicenseID: w.lic["bob"].ID, ManagementMode: accountapi.ModeLocal})
		if err != nil {
			t.Fatal(err)
		}
		for name, tc := range map[string]struct {
			f    adminapi.DeviceFilter
			want []string
		}{
			"default: last seen, newest first": {adminapi.DeviceFilter{}, []string{"ana-laptop", "Build-Server", "bob-mac", "ana-desk"}},
			"activated ascending":              {adminapi.DeviceFilter{Sort: "activated", Order: "asc"}, []string{"ana-laptop", "ana-desk", "bob-mac", "Build-Server"}},
			"hostname ascending":               {adminapi.DeviceFilter{Sort: "hostname", Order: "asc"}, []string{"Build-Server", "ana-desk", "ana-laptop", "bob-mac"}},
			"hostname descending":              {adminapi.DeviceFilter{Sort: "hostname"}, []string{"bob-mac", "ana-laptop", "ana-desk", "Build-Server"}},
			"user ascending":                   {adminapi.DeviceFilter{Sort: "user", Order: "asc"}, append(w.byID("ana-desk", "ana-laptop"), w.byID("Build-Server", "bob-mac")...)},
			"online":                           {adminapi.DeviceFilter{Status: "online"}, []string{"ana-laptop"}},
			"offline":                          {adminapi.DeviceFilter{Status: "offline"}, []string{"Build-Server"}},
			"suspended":                        {adminapi.DeviceFilter{Status: "suspended"}, []string{"bob-mac"}},
			"deactivated":                      {adminapi.DeviceFilter{Status: "deactivated"}, []string{"ana-desk"}},
			"user, any case":                   {adminapi.DeviceFilter{UserEmail: "BOB@acme.example", Sort: "hostname", Order: "asc"}, []string{"Build-Server", "bob-mac"}},
			"plan":                             {adminapi.DeviceFilter{Plan: "Pro", Sort: "hostname", Order: "asc"}, []string{"ana-desk", "ana-laptop"}},
			"workspace":                        {adminapi.DeviceFilter{Workspace: ws.ID, Sort: "hostname", Order: "asc"}, []string{"Build-Server", "bob-mac"}},
			"search hostname substring":        {adminapi.DeviceFilter{Search: "LAP"}, []string{"ana-laptop"}},
			"search email":                     {adminapi.DeviceFilter{Search: "bob@", Sort: "hostname", Order: "asc"}, []string{"Build-Server", "bob-mac"}},
			"search wildcard is literal":       {adminapi.DeviceFilter{Search: "%"}, nil},
			"search other organization":        {adminapi.DeviceFilter{Search: "eve"}, nil},
		} {
			t.Run(name, func(t *testing.T) {
				if got := w.hosts(t, tc.f); !slices.Equal(got, tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			})
		}
	})
}

// TestOrgDeviceListRefusals: bad filters and foreign cursors are the
// client's error.
func TestOrgDeviceListRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		w := newOrgWorld(t, d)
		p, err := w.Devices.PageOrgDevices(w.Ctx, w.org, adminapi.DeviceFilter{Sort: "hostname"}, paging.Request{Limit: 1})
		if err != nil || p.NextCursor == "" {
			t.Fatalf("first page: %v %+v", err, p)
		}
		for name, tc := range map[string]struct {
			f   adminapi.DeviceFilter
			req paging.Request
		}{
			"unknown status":          {adminapi.DeviceFilter{Status: "asleep"}, paging.Request{}},
			"unknown sort":            {adminapi.DeviceFilter{Sort: "price"}, paging.Request{}},
			"bad order":               {adminapi.DeviceFilter{Order: "up"}, paging.Request{}},
			"cursor of another sort":  {adminapi.DeviceFilter{Sort: "last_seen"}, paging.Request{Cursor: p.NextCursor}},
			"cursor of another order": {adminapi.DeviceFilter{Sort: "hostname", Order: "asc"}, paging.Request{Cursor: p.NextCursor}},
			"garbage cursor":          {adminapi.DeviceFilter{}, paging.Request{Cursor: "!!"}},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := w.Devices.PageOrgDevices(w.Ctx, w.org, tc.f, tc.req)
				wantCode(t, err, protocol.ErrInvalidRequest)
			})
		}
	})
}

// TestOrgDeviceRenameGetRelease: an administrator renames, reads and
// releases the organization's computers only; each change is one journal
// row of the organization.
func TestOrgDeviceRenameGetRelease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		w := newOrgWorld(t, d)
		id := w.dev["ana-laptop"]
		if _, err := w.Devices.Checkin(w.Ctx, credentialOf(t, w, "ana-laptop"), protocol.CheckinRequest{Fingerprint: fp("ana-laptop"),
			Profiles: &protocol.ProfileSummary{Total: 3, Valid: 2}}); err != nil {
			t.Fatal(err)
		}
		got, err := w.Devices.RenameOrgDevice(w.Ctx, "account:x", w.org, id, "Ana's laptop")
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Ana's laptop" || got.Email != "ana@acme.example" || got.Plan != "Pro" || got.Profiles == nil || got.Profiles.Total != 3 {
			t.Errorf("renamed device: %+v", got)
		}
		if n := w.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'device.rename' AND organization_id = ?", w.org); n != 1 {
			t.Errorf("%d rename rows in the organization's journal, want 1", n)
		}
		if _, err := w.Devices.RenameOrgDevice(w.Ctx, "account:x", w.org, id, "Ana's laptop"); err != nil {
			t.Fatal(err)
		}
		if n := w.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'device.rename'"); n != 1 {
			t.Errorf("the same name again wrote a row: %d", n)
		}
		for _, tc := range []struct{ org, dev string }{
			{w.other, id}, {w.org, w.dev["eve-pc"]}, {w.org, w.dev["solo-pc"]}, {w.org, "dev_none"}, {"", w.dev["solo-pc"]},
		} {
			before := w.Snapshot()
			_, err := w.Devices.RenameOrgDevice(w.Ctx, "account:x", tc.org, tc.dev, "x")
			wantCode(t, err, protocol.ErrNotFound)
			_, err = w.Devices.OrgDevice(w.Ctx, tc.org, tc.dev)
			wantCode(t, err, protocol.ErrNotFound)
			wantCode(t, w.Devices.ReleaseOrgDevice(w.Ctx, "account:x", tc.org, tc.dev), protocol.ErrNotFound)
			if after := w.Snapshot(); after != before {
				t.Errorf("refused call on %+v changed the database", tc)
			}
		}
		lic := licenseOf(t, w, id)
		used := w.SeatsUsed(lic)
		if err := w.Devices.ReleaseOrgDevice(w.Ctx, "account:x", w.org, id); err != nil {
			t.Fatal(err)
		}
		if err := w.Devices.ReleaseOrgDevice(w.Ctx, "account:x", w.org, id); err != nil {
			t.Fatal(err)
		}
		if w.SeatsUsed(lic) != used-1 {
			t.Errorf("seats used %d, want %d", w.SeatsUsed(lic), used-1)
		}
		if n := w.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'device.release' AND organization_id = ?", w.org); n != 1 {
			t.Errorf("%d release rows in the organization's journal, want 1", n)
		}
		got, err = w.Devices.OrgDevice(w.Ctx, w.org, id)
		if err != nil || got.Status != adminapi.StatusDeactivated {
			t.Errorf("released device: %v %+v", err, got)
		}
	})
}

// byID orders hosts by device id (the tie-break of every sort).
func (w *orgWorld) byID(hosts ...string) []string {
	slices.SortFunc(hosts, func(a, b string) int { return strings.Compare(w.dev[a], w.dev[b]) })
	return hosts
}

func credentialOf(t *testing.T, w *orgWorld, host string) string {
	t.Helper()
	// Activating the same computer again returns its credential anew.
	p, err := w.Devices.OrgDevice(w.Ctx, w.org, w.dev[host])
	if err != nil {
		t.Fatal(err)
	}
	var key string
	if err := w.DB.QueryRow(w.Ctx, "SELECT license_key FROM licenses WHERE id = ?", p.LicenseID).Scan(&key); err != nil {
		t.Fatal(err)
	}
	req := keyRequest(key, fp(host))
	req.Device = facts(host)
	resp, err := w.Devices.Activate(w.Ctx, req, testIP)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Credential
}

func licenseOf(t *testing.T, w *orgWorld, id string) string {
	t.Helper()
	var lic string
	if err := w.DB.QueryRow(w.Ctx, "SELECT license_id FROM devices WHERE id = ?", id).Scan(&lic); err != nil {
		t.Fatal(err)
	}
	return lic
}
