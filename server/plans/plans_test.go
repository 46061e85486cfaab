package plans_test

import (
	"testing"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func req(code string) adminapi.CreatePlanRequest {
	return adminapi.CreatePlanRequest{Code: code, Name: "Pro", Features: []string{"sign", "timestamp"}, MaxProfiles: 5, DevicesPerSeat: 2,
		TermMonths: 12, SeatPriceCents: 4900, Currency: "EUR"}
}

// TestCatalog: create (code unique, fields validated), page through, update
// and deactivate; each change one journal row, each refusal none.
func TestCatalog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := apptest.New(t, d)
		svc := f.App.Plans
		rows := func() int { return f.Count("SELECT COUNT(*) FROM audit_events") }
		var ids []string
		for _, code := range []string{"a", "b", "c"} {
			p, err := svc.Create(f.Ctx, "operator:t", req(code))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, p.ID)
		}
		before := rows()
		bad := []struct {
			name string
			r    adminapi.CreatePlanRequest
			code string
		}{
			{"duplicate code", req("a"), adminapi.ErrPlanCodeTaken},
			{"bad code", req("Pro Plan"), protocol.ErrInvalidRequest},
			{"no term", func() adminapi.CreatePlanRequest { r := req("x"); r.TermMonths = 0; return r }(), protocol.ErrInvalidRequest},
			{"negative price", func() adminapi.CreatePlanRequest { r := req("x"); r.SeatPriceCents = -1; return r }(), protocol.ErrInvalidRequest},
			{"currency", func() adminapi.CreatePlanRequest { r := req("x"); r.Currency = "euro"; return r }(), protocol.ErrInvalidRequest},
			{"duplicate feature", func() adminapi.CreatePlanRequest { r := req("x"); r.Features = []string{"a", "a"}; return r }(), protocol.ErrInvalidRequest},
		}
		for _, c := range bad {
			t.Run(c.name, func(t *testing.T) {
				_, err := svc.Create(f.Ctx, "operator:t", c.r)
				apptest.WantCode(t, err, c.code)
			})
		}
		if rows() != before {
			t.Fatal("a refused create wrote a journal row")
		}
		off, name := false, "Pro+"
		p, err := svc.Update(f.Ctx, "operator:t", ids[1], adminapi.UpdatePlanRequest{Active: &off, Name: &name})
		if err != nil || p.Active || p.Name != "Pro+" || p.Code != "b" || p.SeatPriceCents != 4900 {
			t.Fatalf("update %+v %v", p, err)
		}
		if rows() != before+1 {
			t.Fatal("update did not write one journal row")
		}
		_, err = svc.Update(f.Ctx, "operator:t", "plan_none", adminapi.UpdatePlanRequest{Name: &name})
		apptest.WantCode(t, err, protocol.ErrNotFound)
		first, err := svc.List(f.Ctx, false, paging.Request{Limit: 2})
		if err != nil || first.Total != 3 || len(first.Items) != 2 || first.NextCursor == "" {
			t.Fatalf("first page %+v %v", first, err)
		}
		second, err := svc.List(f.Ctx, false, paging.Request{Limit: 2, Cursor: first.NextCursor})
		if err != nil || len(second.Items) != 1 || second.NextCursor != "" {
			t.Fatalf("second page %+v %v", second, err)
		}
		active, err := svc.List(f.Ctx, true, paging.Request{})
		if err != nil || active.Total != 2 {
			t.Fatalf("active %+v %v", active, err)
		}
		got, err := svc.Get(f.Ctx, ids[0])
		if err != nil || len(got.Features) != 2 || got.DevicesPerSeat != 2 {
			t.Fatalf("get %+v %v", got, err)
		}
	})
}
