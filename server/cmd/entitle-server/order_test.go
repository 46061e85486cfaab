package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	domains "github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestPlanAndOrderCommands drives plan create, list and update and order
// list, show and pay, in JSON and in words, on each database.
func TestPlanAndOrderCommands(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		t.Setenv("ENTITLE_LANG", "en")
		dsn := storetest.DSN(t, d)
		must := func(args ...string) string { t.Helper(); return mustRun(t, dsn, args...) }
		decode := func(out string, v any) { t.Helper(); decodeJSON(t, out, v) }
		var p adminapi.PlanJSON
		decode(must("plan", "create", "--code", "team", "--name", "Team", "--feature", "sign", "--feature", "stamp",
			"--max-profiles", "4", "--price-cents", "4900", "--json"), &p)
		if p.Code != "team" || len(p.Features) != 2 || p.SeatPriceCents != 4900 || p.Currency != "EUR" || p.DevicesPerSeat != 1 || !p.Active {
			t.Fatalf("plan create --json = %+v", p)
		}
		if out, err := runIn(t, dsn, "", "plan", "create", "--code", "team", "--name", "Again"); err == nil || !strings.Contains(err.Error(), "another plan has this code") {
			t.Fatalf("duplicate code: %v\n%s", err, out)
		}
		decode(must("plan", "update", p.ID, "--price-cents", "5900", "--json"), &p)
		if p.SeatPriceCents != 5900 || p.Name != "Team" {
			t.Fatalf("plan update --json = %+v", p)
		}
		if out := must("plan", "list"); !strings.Contains(out, "59.00 EUR") || !strings.Contains(out, "team") {
			t.Fatalf("plan list = %s", out)
		}

		// An organization's admin orders through the API; here the domain.
		ctx := context.Background()
		db, err := store.Open(ctx, dsn, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		svc, err := domains.New(db, domains.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Devices.Close()
		org, err := svc.Organizations.Create(ctx, "operator:cli", "Acme", "")
		if err != nil {
			t.Fatal(err)
		}
		o, err := svc.Orders.Create(ctx, "operator:cli", org.ID, []adminapi.LineRequest{{PlanID: p.ID, Quantity: 3}})
		if err != nil {
			t.Fatal(err)
		}
		if out, err := runIn(t, dsn, "", "order", "pay", o.ID, "--reference", "VIR-1"); err == nil || !strings.Contains(err.Error(), "status does not allow") {
			t.Fatalf("paying a cart: %v\n%s", err, out)
		}
		if _, err := svc.Orders.Validate(ctx, "operator:cli", org.ID, o.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Orders.Confirm(ctx, "operator:cli", org.ID, o.ID, ""); err != nil {
			t.Fatal(err)
		}
		var page paging.Page[adminapi.OrderJSON]
		decode(must("order", "list", "--status", "confirmed", "--json"), &page)
		if page.Total != 1 || page.Items[0].ID != o.ID || page.Items[0].TotalCents != 17700 {
			t.Fatalf("order list --json = %+v", page)
		}
		var paid adminapi.OrderJSON
		decode(must("order", "pay", o.ID, "--reference", "VIR-1", "--json"), &paid)
		if paid.Status != adminapi.OrderPaid || paid.Lines[0].SubscriptionID == "" {
			t.Fatalf("order pay --json = %+v", paid)
		}
		if out := must("order", "show", o.ID); !strings.Contains(out, "177.00 EUR") || !strings.Contains(out, paid.Lines[0].SubscriptionID) {
			t.Fatalf("order show = %s", out)
		}
	})
}
