package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	domains "github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestDeviceAndCommandCommands lists an organization's computers, sends
// one a command and lists its commands, as JSON and as tables.
func TestDeviceAndCommandCommands(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		t.Setenv("ENTITLE_LANG", "en")
		dsn := storetest.DSN(t, d)
		must := func(args ...string) string { t.Helper(); return mustRun(t, dsn, args...) }
		if out, err := runIn(t, dsn, "correct horse battery\n", "account", "create", "--email", "ana@acme.example", "--password-stdin"); err != nil {
			t.Fatalf("account create: %v\n%s", err, out)
		}
		var org adminapi.OrgJSON
		if err := json.Unmarshal([]byte(must("org", "create", "--name", "Acme", "--json")), &org); err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(t.Context(), dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		svc, err := domains.New(db, domains.Config{Issuer: apptest.Issuer, PasswordHash: apptest.CheapArgon()})
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Devices.Close()
		lic := apptest.OrgLicense(t, svc, db, org.ID, "ana@acme.example", "Pro", 3, "remote")
		var ids []string
		for _, m := range []string{"laptop", "desk"} {
			req := apptest.KeyRequest(lic.Key, apptest.FP(m))
			req.Device = apptest.Facts("ana-" + m)
			a, err := svc.Devices.Activate(t.Context(), req, "192.0.2.1")
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, a.DeviceID)
		}

		var page paging.Page[adminapi.OrgDeviceJSON]
		if err := json.Unmarshal([]byte(must("device", "list", "--org", org.ID, "--sort", "hostname", "--order", "asc", "--json")), &page); err != nil {
			t.Fatal(err)
		}
		if page.Total != 2 || page.Items[0].Facts.Hostname != "ana-desk" || page.Items[0].Status != adminapi.StatusOnline {
			t.Fatalf("device list --json = %+v", page)
		}
		if out := must("device", "list", "--org", org.ID, "--search", "LAPTOP"); !strings.Contains(out, "ana-laptop") || strings.Contains(out, "ana-desk") {
			t.Errorf("device list --search:\n%s", out)
		}
		if out, err := runIn(t, dsn, "", "device", "list", "--org", org.ID, "--status", "asleep"); err == nil {
			t.Errorf("a bad status was accepted:\n%s", out)
		}

		var rec accountapi.CommandJSON
		if err := json.Unmarshal([]byte(must("command", "send", "--org", org.ID, "--device", ids[0], "--type", "show_message",
			"--arg", "message=Maintenance at 6 pm", "--json")), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Status != "pending" || rec.Args["message"] != "Maintenance at 6 pm" || !strings.HasPrefix(rec.CreatedBy, "operator:") {
			t.Errorf("command send --json = %+v", rec)
		}
		for _, bad := range [][]string{
			{"command", "send", "--org", org.ID, "--device", ids[0], "--type", "reboot"},
			{"command", "send", "--org", org.ID, "--device", ids[0], "--type", "show_message", "--arg", "nokey"},
			{"command", "send", "--org", "org_other", "--device", ids[0], "--type", "refresh_lease"},
		} {
			if out, err := runIn(t, dsn, "", bad...); err == nil {
				t.Errorf("%v accepted:\n%s", bad, out)
			}
		}
		var cmds paging.Page[accountapi.CommandJSON]
		if err := json.Unmarshal([]byte(must("command", "list", "--device", ids[0], "--json")), &cmds); err != nil {
			t.Fatal(err)
		}
		if cmds.Total != 1 || cmds.Items[0].ID != rec.ID {
			t.Errorf("command list --json = %+v", cmds)
		}
		if out := must("command", "list", "--device", ids[0]); !strings.Contains(out, "show_message") || !strings.Contains(out, "pending") {
			t.Errorf("command list:\n%s", out)
		}
	})
}
