package main

import (
	"context"
	"testing"

	"github.com/entitle/entitle/pkg/paging"
	domains "github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
	"github.com/entitle/entitle/server/workspaces"
)

// TestDemoSeedsOrganization: `entitle-server demo` seeds, once, the demo
// organization through the domains (members on the approved domain, a paid
// subscription with three seats taken, a workspace in each mode on the
// license of the account that made it), keeps the existing fields of its
// JSON output, and a second run changes nothing and prints the same.
func TestDemoSeedsOrganization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		dsn := storetest.DSN(t, d)
		first, err := run(t, dsn, "demo", "--json")
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Email, Password string
			LicenseKey      string `json:"license_key"`
			Seats           int
			Organization    demoOrg
		}
		runJSON(t, dsn, &out, "demo")
		if out.Email == "" || out.Password == "" || out.LicenseKey == "" || out.Seats != 3 {
			t.Fatalf("demo --json lost its fields: %+v", out)
		}
		if again, err := run(t, dsn, "demo", "--json"); err != nil || again != first {
			t.Fatalf("demo --json, second run: %v\n%s\nfirst:\n%s", err, again, first)
		}
		org := out.Organization

		ctx := context.Background()
		db, err := store.Open(ctx, dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		svc, err := domains.New(db, domains.Config{})
		if err != nil {
			t.Fatal(err)
		}
		all := paging.Request{Limit: paging.MaxLimit}
		members, err := svc.Organizations.Members(ctx, org.ID, all)
		if err != nil || members.Total != 4 {
			t.Fatalf("members: %+v %v, want the owner and three", members, err)
		}
		subs, err := svc.Subscriptions.List(ctx, org.ID, all)
		if err != nil || subs.Total != 1 || subs.Items[0].Seats != 5 || subs.Items[0].Assigned != 3 {
			t.Fatalf("subscriptions: %+v %v, want one of 5 seats, 3 assigned", subs, err)
		}
		adminID, err := svc.Organizations.AccountIDByEmail(ctx, org.Admin.Email)
		if err != nil {
			t.Fatal(err)
		}
		ws, err := svc.Workspaces.List(ctx, workspaces.Owner{AccountID: adminID, OrganizationID: org.ID}, all)
		if err != nil || ws.Total != 3 {
			t.Fatalf("workspaces: %+v %v", ws, err)
		}
		modes := map[string]string{}
		for _, w := range ws.Items {
			modes[w.ManagementMode] = w.Name
			if w.License.ManagementMode != w.ManagementMode {
				t.Errorf("workspace %s: license mode %s", w.Name, w.License.ManagementMode)
			}
		}
		if len(modes) != 3 {
			t.Errorf("workspace modes: %v, want local_remote, local and remote", modes)
		}
	})
}
