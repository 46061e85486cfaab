package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
	"github.com/entitle/entitle/server/subscriptions"
)

func TestSubscriptionCommands(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		t.Setenv("ENTITLE_LANG", "en")
		dsn := storetest.DSN(t, d)
		must := func(args ...string) string { t.Helper(); return mustRun(t, dsn, args...) }
		decode := func(out string, v any) { t.Helper(); decodeJSON(t, out, v) }
		var org adminapi.OrgJSON
		decode(must("org", "create", "--name", "Acme", "--json"), &org)

		// A paid order's seats (server/orders' part), straight in the database.
		ctx := context.Background()
		db, err := store.Open(ctx, dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		var subID string
		if _, err := db.Exec(ctx, `INSERT INTO plans (id, code, name, features, max_profiles, devices_per_seat, term_months,
			seat_price_cents, currency, active, created_at) VALUES ('pln_pro', 'pro', 'Pro', '["sign"]', 5, 1, 12, 1000, 'EUR', ?, ?)`,
			true, time.Now().UnixMilli()); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			subID, err = subscriptions.Credit(ctx, tx, time.Now(), subscriptions.CreditSpec{OrganizationID: org.ID, PlanID: "pln_pro", Quantity: 4, Actor: "operator:cli"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		db.Close()

		var page paging.Page[adminapi.SubscriptionJSON]
		decode(must("subscription", "list", "--json"), &page)
		if page.Total != 1 || page.Items[0].ID != subID || page.Items[0].Seats != 4 || page.Items[0].PlanCode != "pro" {
			t.Fatalf("subscription list --json = %+v", page)
		}
		decode(must("subscription", "list", "--org", "org_none", "--json"), &page)
		if page.Total != 0 || len(page.Items) != 0 {
			t.Fatalf("another organization's list = %+v", page)
		}
		if out := must("subscription", "list"); !strings.Contains(out, subID) || !strings.Contains(out, "0/4") {
			t.Fatalf("subscription list = %s", out)
		}

		var sub adminapi.SubscriptionJSON
		decode(must("subscription", "suspend", subID, "--reason", "invoice unpaid", "--json"), &sub)
		if sub.Suspended == nil {
			t.Fatalf("suspend --json = %+v", sub)
		}
		if out := must("subscription", "resume", subID); !strings.Contains(out, "resumed") || !strings.Contains(out, "active") {
			t.Fatalf("resume = %s", out)
		}
		var extended adminapi.SubscriptionJSON
		decode(must("subscription", "extend", subID, "--until", "2040-01-31", "--json"), &extended)
		if extended.Suspended != nil || !extended.TermEnd.Equal(time.Date(2040, 1, 31, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("extend --json = %+v", extended)
		}
		if out, err := runIn(t, dsn, "", "subscription", "extend", subID, "--until", "soon"); err == nil {
			t.Fatalf("extend --until soon succeeded:\n%s", out)
		}
		if out, err := runIn(t, dsn, "", "subscription", "suspend", "sub_none"); err == nil || !strings.Contains(err.Error(), "nothing has this id") {
			t.Fatalf("suspend of an unknown subscription: %v\n%s", err, out)
		}
	})
}
