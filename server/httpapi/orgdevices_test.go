package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/entitle/entitle/internal/dnstest"
	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// orgDevices makes an organization with an owner's session and n computers
// on a member's organization license (management mode mode); it returns the
// session, the organization and the computers' activations.
func (re *routeEnv) orgDevices(t *testing.T, n int, mode string) (string, string, []protocol.ActivateResponse) {
	t.Helper()
	tok, org := re.org(t)
	email, _, _ := re.person(t)
	lic := apptest.OrgLicense(t, re.App, re.DB, org, email, "Pro", n+1, mode)
	var out []protocol.ActivateResponse
	for range n {
		a, _ := re.activate(t, lic.Key)
		out = append(out, a)
	}
	return tok, org, out
}

func deviceURL(org, id string) string { return orgPath(adminapi.PathOrgDevices, org) + "/" + id }

// The organization device routes' cases of TestEveryStateChangingRouteJournals.
func init() {
	journalCases["PATCH "+adminapi.PathOrgDevice] = func(t *testing.T, re *routeEnv) func() int {
		tok, org, devs := re.orgDevices(t, 1, "remote")
		name := "Accueil"
		return func() int {
			return re.call(t, "PATCH", deviceURL(org, devs[0].DeviceID), tok, adminapi.RenameDeviceRequest{Name: &name}, nil)
		}
	}
	journalCases["DELETE "+adminapi.PathOrgDevice] = func(t *testing.T, re *routeEnv) func() int {
		tok, org, devs := re.orgDevices(t, 1, "remote")
		return func() int { return re.call(t, "DELETE", deviceURL(org, devs[0].DeviceID), tok, nil, nil) }
	}
	journalCases["POST "+adminapi.PathOrgDeviceCommands] = func(t *testing.T, re *routeEnv) func() int {
		tok, org, devs := re.orgDevices(t, 1, "remote")
		return func() int {
			return re.call(t, "POST", deviceURL(org, devs[0].DeviceID)+"/commands", tok, accountapi.CommandRequest{Type: protocol.CmdRefreshLease}, nil)
		}
	}
	journalCases["POST "+adminapi.PathOrgCommands] = func(t *testing.T, re *routeEnv) func() int {
		tok, org, devs := re.orgDevices(t, 2, "remote")
		return func() int {
			return re.call(t, "POST", orgPath(adminapi.PathOrgCommands, org), tok, adminapi.BulkCommandRequest{
				DeviceIDs: []string{devs[0].DeviceID, devs[1].DeviceID}, Type: protocol.CmdDeactivate, IdempotencyKey: "journal"}, nil)
		}
	}
}

// TestOrgDeviceRoutes drives the organization's device routes over HTTP:
// the list and its filter, rename (and its validation), the device's
// commands through the route shared with the account's, a bulk command by
// filter and its replay.
func TestOrgDeviceRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		dns := dnstest.Start(t)
		e := apitest.StartWith(t, d, func(c *app.Config) { c.Resolver = dns.Resolver() })
		re := &routeEnv{Env: e, dns: dns, tag: &tagging{base: e.Server.Client().Transport}}
		re.api = &http.Client{Transport: re.tag}
		tok, org, devs := re.orgDevices(t, 3, "remote")
		_, _, foreign := re.orgDevices(t, 1, "remote")

		var page paging.Page[adminapi.OrgDeviceJSON]
		if st := re.call(t, "GET", orgPath(adminapi.PathOrgDevices, org)+"?sort=activated&order=asc&limit=2", tok, nil, &page); st != 200 {
			t.Fatalf("list: %d", st)
		}
		if page.Total != 3 || len(page.Items) != 2 || page.NextCursor == "" || page.Items[0].ID != devs[0].DeviceID {
			t.Fatalf("first page: %+v", page)
		}
		if it := page.Items[0]; it.Status != adminapi.StatusOnline || it.Plan != "Pro" || it.User.Email == "" || it.Profiles != nil {
			t.Errorf("listed device: %+v", it)
		}
		for _, bad := range []string{"?status=asleep", "?sort=price", "?order=up", "?limit=501", "?cursor=" + page.NextCursor} {
			if st := re.call(t, "GET", orgPath(adminapi.PathOrgDevices, org)+bad, tok, nil, nil); st != 400 {
				t.Errorf("list%s: %d, want 400", bad, st)
			}
		}

		id := devs[1].DeviceID
		for name, want := range map[string]int{"  padded": 400, "tab\there": 400, string(make([]byte, 101)): 400, "Réception": 200} {
			n := name
			if st := re.call(t, "PATCH", deviceURL(org, id), tok, adminapi.RenameDeviceRequest{Name: &n}, nil); st != want {
				t.Errorf("rename %q: %d, want %d", name, st, want)
			}
		}
		if st := re.call(t, "PATCH", deviceURL(org, id), tok, map[string]any{}, nil); st != 400 {
			t.Errorf("rename without name: %d", st)
		}
		var got adminapi.OrgDeviceJSON
		if st := re.call(t, "GET", deviceURL(org, id), tok, nil, &got); st != 200 || got.Name != "Réception" {
			t.Errorf("get: %d %+v", st, got)
		}
		if st := re.call(t, "GET", deviceURL(org, foreign[0].DeviceID), tok, nil, nil); st != 404 {
			t.Errorf("another organization's computer: %d, want 404", st)
		}

		var rec accountapi.CommandJSON
		if st := re.call(t, "POST", deviceURL(org, id)+"/commands", tok, accountapi.CommandRequest{Type: protocol.CmdSendInventory}, &rec); st != 201 {
			t.Fatalf("queue: %d", st)
		}
		var cmds paging.Page[accountapi.CommandJSON]
		if st := re.call(t, "GET", deviceURL(org, id)+"/commands", tok, nil, &cmds); st != 200 || cmds.Total != 1 || cmds.Items[0].ID != rec.ID {
			t.Errorf("commands: %d %+v", st, cmds)
		}
		if st := re.call(t, "POST", deviceURL(org, foreign[0].DeviceID)+"/commands", tok, accountapi.CommandRequest{Type: protocol.CmdSendInventory}, nil); st != 404 {
			t.Errorf("command to another organization's computer: %d, want 404", st)
		}

		bulk := adminapi.BulkCommandRequest{Filter: &adminapi.DeviceFilter{Status: adminapi.StatusOnline}, Type: protocol.CmdSendInventory, IdempotencyKey: "inv-1"}
		var out adminapi.BulkCommandResponse
		if st := re.call(t, "POST", orgPath(adminapi.PathOrgCommands, org), tok, bulk, &out); st != 201 {
			t.Fatalf("bulk: %d", st)
		}
		if out.Queued != 2 || out.Refused != 1 || len(out.Results) != 3 || out.Replayed {
			t.Errorf("bulk: %+v", out)
		}
		for _, r := range out.Results {
			if want := map[bool]string{true: protocol.ErrCommandPending, false: ""}[r.DeviceID == id]; r.Code != want {
				t.Errorf("%s: code %q, want %q", r.DeviceID, r.Code, want)
			}
		}
		var again adminapi.BulkCommandResponse
		if st := re.call(t, "POST", orgPath(adminapi.PathOrgCommands, org), tok, bulk, &again); st != 200 || !again.Replayed || again.ID != out.ID {
			t.Errorf("replay: %d %+v", st, again)
		}
		bulk.Type = protocol.CmdRefreshLease
		if st := re.call(t, "POST", orgPath(adminapi.PathOrgCommands, org), tok, bulk, nil); st != 409 {
			t.Errorf("reused key: %d, want 409", st)
		}
		for name, b := range map[string]adminapi.BulkCommandRequest{
			"both":     {DeviceIDs: []string{id}, Filter: &adminapi.DeviceFilter{}, Type: protocol.CmdRefreshLease, IdempotencyKey: "x"},
			"neither":  {Type: protocol.CmdRefreshLease, IdempotencyKey: "x"},
			"no key":   {DeviceIDs: []string{id}, Type: protocol.CmdRefreshLease},
			"twice":    {DeviceIDs: []string{id, id}, Type: protocol.CmdRefreshLease, IdempotencyKey: "x"},
			"too many": {DeviceIDs: ids(501), Type: protocol.CmdRefreshLease, IdempotencyKey: "x"},
		} {
			if st := re.call(t, "POST", orgPath(adminapi.PathOrgCommands, org), tok, b, nil); st != 400 {
				t.Errorf("bulk %s: %d, want 400", name, st)
			}
		}

		if st := re.call(t, "DELETE", deviceURL(org, id), tok, nil, nil); st != 204 {
			t.Fatalf("release: %d", st)
		}
		if st := re.call(t, "GET", orgPath(adminapi.PathOrgDevices, org)+"?status=deactivated", tok, nil, &page); st != 200 || page.Total != 1 || page.Items[0].ID != id {
			t.Errorf("deactivated: %d %+v", st, page)
		}
	})
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint("dev_", i)
	}
	return out
}
