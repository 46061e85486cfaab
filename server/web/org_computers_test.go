package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/commands"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// fleet gives the console's organization computers: remote ones (named
// pc-1...) on one license and one on a license its user alone manages; it
// returns their ids, remote first, then the local one.
func (cs *console) fleet(t *testing.T, remote int) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	activate := func(key, name string) {
		a, err := cs.e.App.Devices.Activate(ctx, protocol.ActivateRequest{
			Method: protocol.MethodLicenseKey, LicenseKey: key, Fingerprint: apitest.Fingerprint(name), Product: "entitle",
			Device: protocol.DeviceFacts{Hostname: name, OS: "linux", Arch: "amd64", AgentVersion: "test"},
		}, fmt.Sprintf("192.0.2.%d", len(ids)+1))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.DeviceID)
	}
	lic := apptest.OrgLicense(t, cs.e.App, cs.e.DB, cs.org, "member@alpha.example", "Pro", remote+1, "remote")
	for i := range remote {
		activate(lic.Key, fmt.Sprintf("pc-%d", i+1))
	}
	local := apptest.OrgLicense(t, cs.e.App, cs.e.DB, cs.org, "member@alpha.example", "Solo", 1, "local")
	activate(local.Key, "laptop-local")
	return ids
}

var (
	rowID    = regexp.MustCompile(`<tr class="computer" data-id="([^"]+)"`)
	keyField = regexp.MustCompile(`name="key" value="([^"]+)"`)
)

func (cs *console) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := cs.e.DB.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestComputersList: the organization's computers page filters, sorts,
// searches and pages like the API, with the total; a filter it cannot use
// is a 400 that says so.
func TestComputersList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		cs := newConsole(t, d)
		ids := cs.fleet(t, 3)
		base := cs.e.URL("/orgs/" + cs.org + "/computers")
		tests := []struct {
			name, query string
			status      int
			rows        int
			want        []string
		}{
			{"all", "", 200, 4, []string{"4 computers in all.", "pc-1", "laptop-local", "member@alpha.example", `value="refresh_lease"`}},
			{"search", "?q=PC-2", 200, 1, []string{"1 computer in all.", "pc-2"}},
			{"plan", "?plan=Solo", 200, 1, []string{"laptop-local"}},
			{"user", "?user=member@alpha.example&status=online", 200, 4, nil},
			{"nobody", "?user=owner@alpha.example", 200, 0, []string{"No computer matches."}},
			{"suspended", "?status=suspended", 200, 0, nil},
			{"sorted", "?sort=hostname&order=asc", 200, 4, nil},
			{"bad status", "?status=asleep", 400, 0, []string{"The filter cannot be used"}},
			{"bad sort", "?sort=price", 400, 0, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				st, _, body := page(t, cs.owner, "GET", base+tc.query, nil)
				if st != tc.status {
					t.Fatalf("status %d, want %d:\n%s", st, tc.status, body)
				}
				if n := len(rowID.FindAllString(body, -1)); n != tc.rows {
					t.Errorf("%d rows, want %d", n, tc.rows)
				}
				for _, w := range tc.want {
					if !strings.Contains(body, w) {
						t.Errorf("page lacks %q", w)
					}
				}
			})
		}
		_, _, body := page(t, cs.owner, "GET", base+"?sort=hostname&order=asc", nil)
		if i, j := strings.Index(body, "laptop-local"), strings.Index(body, "pc-1"); i < 0 || j < 0 || i > j {
			t.Errorf("hostname ascending: laptop-local should come before pc-1")
		}
		// Keyset pages: 55 more computers, written as activations would be.
		ctx := context.Background()
		var lic, acct string
		if err := cs.e.DB.QueryRow(ctx, "SELECT license_id, organization_id FROM devices WHERE id = ?", ids[0]).Scan(&lic, &acct); err != nil {
			t.Fatal(err)
		}
		for i := range 55 {
			if _, err := cs.e.DB.Exec(ctx, `INSERT INTO devices (id, license_id, organization_id, fingerprint, product, hostname, os, arch,
				agent_version, credential_hash, activated_at, last_seen_at) VALUES (?, ?, ?, ?, 'entitle', ?, 'linux', 'amd64', 't', ?, ?, ?)`,
				fmt.Sprintf("dev_bulk%03d", i), lic, acct, apitest.Fingerprint(fmt.Sprint("bulk", i)), fmt.Sprintf("bulk-%03d", i),
				fmt.Sprint("h", i), time.Now().UnixMilli(), time.Now().UnixMilli()-int64(i)); err != nil {
				t.Fatal(err)
			}
		}
		_, _, body = page(t, cs.owner, "GET", base+"?sort=hostname", nil)
		next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body)
		if n := len(rowID.FindAllString(body, -1)); n != 50 || next == nil || !strings.Contains(body, "59 computers in all.") {
			t.Fatalf("first page: %d rows, next %v", n, next)
		}
		nextURL := html.UnescapeString(next[1])
		if !strings.Contains(nextURL, "sort=hostname") {
			t.Errorf("the next page's link lost the sort: %s", nextURL)
		}
		_, _, body2 := page(t, cs.owner, "GET", cs.e.URL(nextURL), nil)
		seen := map[string]bool{}
		for _, b := range []string{body, body2} {
			for _, m := range rowID.FindAllStringSubmatch(b, -1) {
				if seen[m[1]] {
					t.Errorf("%s on both pages", m[1])
				}
				seen[m[1]] = true
			}
		}
		if len(seen) != 59 {
			t.Errorf("two pages show %d computers, want 59", len(seen))
		}
	})
}

// TestBulkCommandFlow: selected computers -> the confirmation, which says
// what will happen and changes nothing -> the result, per computer (queued
// or the refusal in words); the same confirmation sent twice queues once.
func TestBulkCommandFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		cs := newConsole(t, d)
		all := cs.fleet(t, 3)
		spare := all[2]
		ids := []string{all[0], all[1], all[3]}
		base := "/orgs/" + cs.org + "/computers"
		q := url.Values{"type": {"deactivate"}, "device": ids, "back": {base + "?status=online"}}
		before := cs.journalRows(t)
		st, _, body := page(t, cs.owner, "GET", cs.e.URL(base+"/commands/confirm?"+q.Encode()), nil)
		if st != 200 || !strings.Contains(body, "These 3 computers will stop being entitled within a second if online, at their next check-in otherwise") {
			t.Fatalf("confirmation (%d):\n%s", st, body)
		}
		if cs.journalRows(t) != before || cs.count(t, "SELECT COUNT(*) FROM device_commands") != 0 {
			t.Fatal("the confirmation changed something")
		}
		key := keyField.FindStringSubmatch(body)
		if key == nil {
			t.Fatal("no idempotency key in the confirmation")
		}
		form := url.Values{"csrf": {cs.ownerTok}, "type": {"deactivate"}, "key": {key[1]}, "device": ids, "back": {base + "?status=online"}}
		st, _, body = page(t, cs.owner, "POST", cs.e.URL(base+"/commands"), form)
		for _, want := range []string{"Deactivate: 2 queued, 1 refused.", "Refused: its license is managed by its user only, not remotely.", "pc-1", `href="` + html.EscapeString(base+"?status=online") + `"`} {
			if st != 200 || !strings.Contains(body, want) {
				t.Fatalf("result (%d) lacks %q:\n%s", st, want, body)
			}
		}
		if n := cs.journalRows(t) - before; n != 1 {
			t.Errorf("the bulk command wrote %d journal rows, want 1", n)
		}
		st, _, body = page(t, cs.owner, "POST", cs.e.URL(base+"/commands"), form)
		if st != 200 || !strings.Contains(body, "already been sent") || cs.count(t, "SELECT COUNT(*) FROM device_commands") != 2 {
			t.Errorf("double submit (%d): %d commands:\n%s", st, cs.count(t, "SELECT COUNT(*) FROM device_commands"), body)
		}
		// A deactivated computer, and one whose command of the same type
		// still waits, are refused one by one.
		if _, err := cs.e.App.Commands.Enqueue(context.Background(), commandQueue(spare, cs.org)); err != nil {
			t.Fatal(err)
		}
		_, _, body = page(t, cs.owner, "GET", cs.e.URL(base+"/commands/confirm?"+url.Values{"type": {"send_inventory"}, "device": {ids[0], spare}}.Encode()), nil)
		if !strings.Contains(body, "These 2 computers will send their profiles and certificates") {
			t.Errorf("inventory confirmation:\n%s", body)
		}
		form = url.Values{"csrf": {cs.ownerTok}, "type": {"send_inventory"}, "key": {keyField.FindStringSubmatch(body)[1]}, "device": {ids[0], spare}}
		_, _, body = page(t, cs.owner, "POST", cs.e.URL(base+"/commands"), form)
		for _, want := range []string{"Refused: this computer is deactivated.", "Refused: a command of this type is already waiting for it."} {
			if !strings.Contains(body, want) {
				t.Errorf("refusals lack %q:\n%s", want, body)
			}
		}
		// French.
		if st, _, _ := page(t, cs.owner, "POST", cs.e.URL("/language"), url.Values{"csrf": {cs.ownerTok}, "lang": {"fr"}}); st != http.StatusSeeOther {
			t.Fatalf("language: %d", st)
		}
		_, _, body = page(t, cs.owner, "GET", cs.e.URL(base+"/commands/confirm?"+q.Encode()), nil)
		if !strings.Contains(body, "Ces 3\u00a0postes cesseront d’être couverts en moins d’une seconde s’ils sont en ligne") {
			t.Errorf("French confirmation:\n%s", body)
		}
		for _, bad := range []url.Values{
			{"type": {"deactivate"}},
			{"type": {"reboot"}, "device": ids[:1]},
			{"type": {"show_message"}, "device": ids[:1]},
			{"type": {"deactivate"}, "device": {strings.Repeat("x", 200)}},
		} {
			if st, _, _ := page(t, cs.owner, "GET", cs.e.URL(base+"/commands/confirm?"+bad.Encode()), nil); st != 400 {
				t.Errorf("confirm %v: %d, want 400", bad, st)
			}
		}
		if st, _, _ := page(t, cs.owner, "POST", cs.e.URL(base+"/commands"), url.Values{"csrf": {cs.ownerTok}, "type": {"deactivate"}, "device": ids[:1]}); st != 400 {
			t.Errorf("a command without its key: %d, want 400", st)
		}
	})
}

// TestComputerPage: facts, rename, the commands' states as the page and
// its JSON show them while the computer takes the command, the journal
// rows, and release through its confirmation.
func TestComputerPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		cs := newConsole(t, d)
		ids := cs.fleet(t, 1)
		id := ids[0]
		ctx := context.Background()
		base := "/orgs/" + cs.org + "/computers/" + id
		st, _, body := page(t, cs.owner, "GET", cs.e.URL(base), nil)
		for _, want := range []string{"pc-1, a computer of Alpha", "linux amd64", "No command was sent", "has not reported its profiles", "device.activate"} {
			if st != 200 || !strings.Contains(body, want) {
				t.Fatalf("computer page (%d) lacks %q:\n%s", st, want, body)
			}
		}
		for name, want := range map[string]int{"  padded": 400, "tab\there": 400, "Accueil": 303} {
			if st, _, _ := page(t, cs.owner, "POST", cs.e.URL(base+"/name"), url.Values{"csrf": {cs.ownerTok}, "name": {name}}); st != want {
				t.Errorf("rename %q: %d, want %d", name, st, want)
			}
		}
		_, _, body = page(t, cs.owner, "GET", cs.e.URL(base+"?done=renamed"), nil)
		if !strings.Contains(body, "Accueil, a computer of Alpha") || !strings.Contains(body, "The computer is renamed.") {
			t.Errorf("renamed page:\n%s", body)
		}
		rec, err := cs.e.App.Commands.Enqueue(ctx, commandQueue(id, cs.org))
		if err != nil {
			t.Fatal(err)
		}
		states := func() string {
			t.Helper()
			st, _, body := page(t, cs.owner, "GET", cs.e.URL(base+"/commands.json"), nil)
			var out struct {
				Commands []struct{ ID, State, Text string }
			}
			if err := json.Unmarshal([]byte(body), &out); st != 200 || err != nil || len(out.Commands) != 1 || out.Commands[0].ID != rec.ID {
				t.Fatalf("commands.json (%d): %v %s", st, err, body)
			}
			return out.Commands[0].State
		}
		_, _, body = page(t, cs.owner, "GET", cs.e.URL(base), nil)
		if !strings.Contains(body, `data-open="1"`) || !strings.Contains(body, ">pending<") || states() != "pending" {
			t.Fatalf("pending command:\n%s", body)
		}
		cmds, err := cs.e.App.Commands.Exchange(ctx, id, nil)
		if err != nil || len(cmds) != 1 {
			t.Fatalf("deliver: %v %v", cmds, err)
		}
		if s := states(); s != "delivered" {
			t.Errorf("after delivery: %s", s)
		}
		if _, err := cs.e.App.Commands.Exchange(ctx, id, []protocol.CommandResult{{ID: rec.ID, Status: protocol.CommandSucceeded}}); err != nil {
			t.Fatal(err)
		}
		_, _, body = page(t, cs.owner, "GET", cs.e.URL(base), nil)
		if states() != "succeeded" || !strings.Contains(body, ">succeeded<") || strings.Contains(body, `data-open="1"`) {
			t.Errorf("succeeded command:\n%s", body)
		}
		st, _, body = page(t, cs.owner, "GET", cs.e.URL(base+"/release"), nil)
		if st != 200 || !strings.Contains(body, "it will stop being entitled within a second if online, at its next check-in otherwise") {
			t.Fatalf("release confirmation (%d):\n%s", st, body)
		}
		before := cs.journalRows(t)
		if st, loc, _ := page(t, cs.owner, "POST", cs.e.URL(base+"/release"), url.Values{"csrf": {cs.ownerTok}}); st != 303 || !strings.Contains(loc, "done=released") {
			t.Fatalf("release: %d -> %s", st, loc)
		}
		if n := cs.journalRows(t) - before; n != 1 {
			t.Errorf("release wrote %d journal rows", n)
		}
		_, _, body = page(t, cs.owner, "GET", cs.e.URL(base), nil)
		if !strings.Contains(body, ">deactivated<") || strings.Contains(body, `id="release"`) {
			t.Errorf("released computer's page:\n%s", body)
		}
		// Another organization's computer, or none, is not found.
		for _, path := range []string{"/orgs/" + cs.org + "/computers/dev_nobody", "/orgs/" + cs.org + "/computers/" + strings.Repeat("x", 300)} {
			if st, _, _ := page(t, cs.owner, "GET", cs.e.URL(path), nil); st != 404 {
				t.Errorf("%s: %d, want 404", path, st)
			}
		}
		if st, _, js := page(t, cs.owner, "GET", cs.e.URL("/static/computers.js"), nil); st != 200 || !strings.Contains(js, "data-states") {
			t.Errorf("the page's script: %d", st)
		}
		if st, _, _ := page(t, cs.out, "GET", cs.e.URL(base+"/commands.json"), nil); st != 404 {
			t.Errorf("another organization's owner: %d, want 404", st)
		}
	})
}

// TestOverviewPage: the organization's landing page counts its computers
// and draws the seat chart; the navigation leads there first.
func TestOverviewPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		cs := newConsole(t, d)
		cs.fleet(t, 2)
		st, _, body := page(t, cs.owner, "GET", cs.e.URL("/orgs/"+cs.org+"/overview"), nil)
		for _, want := range []string{"Overview of Alpha", "<svg", "3 computers online", "0 computers suspended", "0 orders to confirm.",
			"The organization has no subscription yet.", `href="/orgs/` + cs.org + `/computers?status=online"`} {
			if st != 200 || !strings.Contains(body, want) {
				t.Fatalf("overview (%d) lacks %q:\n%s", st, want, body)
			}
		}
		_, _, acct := page(t, cs.owner, "GET", cs.e.URL("/account"), nil)
		if i, j := strings.Index(acct, `/orgs/`+cs.org+`/overview`), strings.Index(acct, `/orgs/`+cs.org+`/members`); i < 0 || j < 0 || i > j {
			t.Errorf("the organization's navigation does not start with the overview")
		}
		if st, _, _ := page(t, cs.member, "GET", cs.e.URL("/orgs/"+cs.org+"/overview"), nil); st != 403 {
			t.Errorf("a plain member: %d, want 403", st)
		}
	})
}

func commandQueue(deviceID, org string) commands.Queue {
	return commands.Queue{DeviceID: deviceID, Type: protocol.CmdSendInventory, Actor: "operator", Organization: org}
}
