package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestSubscriptionSeatsOverHTTP: an admin assigns the last seat (201, then
// 200 for the same member), the next member gets 409 no_seats, seats cannot
// go below those assigned (409 seats_assigned), and releasing the seat
// nudges the member's connected computer, whose check-in then answers 410
// license_revoked.
func TestSubscriptionSeatsOverHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		tag := &tagging{base: e.Server.Client().Transport}
		re := &routeEnv{Env: e, tag: tag, api: &http.Client{Transport: tag}}
		tok, org, sub, _ := re.subscription(t)
		ctx := context.Background()
		joiner := func() (string, string) {
			email, _, acct := re.person(t)
			if _, err := re.App.Organizations.AddMember(ctx, operatorP, org, email, authz.RoleMember); err != nil {
				t.Fatal(err)
			}
			return email, acct
		}
		anaEmail, ana := joiner()
		bobEmail, _ := joiner()

		one, zero := 1, 0
		var got adminapi.SubscriptionJSON
		if st := re.call(t, "PATCH", subURL(org, sub), tok, adminapi.UpdateSubscriptionRequest{Seats: &one}, &got); st != 200 || got.Seats != 1 {
			t.Fatalf("give back seats: %d %+v", st, got)
		}
		var a, again adminapi.AssignmentJSON
		if st := re.call(t, "POST", subURL(org, sub)+"/assignments", tok, adminapi.AssignRequest{Email: anaEmail}, &a); st != 201 || a.AccountID != ana {
			t.Fatalf("assign: %d %+v", st, a)
		}
		if st := re.call(t, "POST", subURL(org, sub)+"/assignments", tok, adminapi.AssignRequest{AccountID: ana}, &again); st != 200 || again.LicenseID != a.LicenseID {
			t.Fatalf("assign again: %d %+v, want 200 and license %s", st, again, a.LicenseID)
		}
		var pe protocol.Error
		if st := re.call(t, "POST", subURL(org, sub)+"/assignments", tok, adminapi.AssignRequest{Email: bobEmail}, &pe); st != 409 || pe.Code != protocol.ErrNoSeats {
			t.Fatalf("assign past the seats: %d %+v", st, pe)
		}
		if st := re.call(t, "PATCH", subURL(org, sub), tok, adminapi.UpdateSubscriptionRequest{Seats: &zero}, &pe); st != 409 || pe.Code != adminapi.ErrSeatsAssigned {
			t.Fatalf("seats below assigned: %d %+v", st, pe)
		}
		plan := "pln_other"
		if st := re.call(t, "PATCH", subURL(org, sub), tok, adminapi.UpdateSubscriptionRequest{PlanID: &plan}, &pe); st != 403 || pe.Code != adminapi.ErrForbidden {
			t.Fatalf("admin plan change: %d %+v", st, pe)
		}

		var key string
		lics, err := re.App.Licenses.ListLicenses(ctx, ana)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lics {
			if l.ID == a.LicenseID {
				key = l.Key
			}
		}
		dev, fp := re.activate(t, key)
		events := stream(t, e, dev.Credential)
		waitEvent(t, events, protocol.StreamEventReady)

		if st := re.call(t, "DELETE", subURL(org, sub)+"/assignments/"+ana, tok, nil, nil); st != 204 {
			t.Fatalf("release: %d", st)
		}
		waitEvent(t, events, protocol.StreamEventCheckin)
		if st := re.call(t, "POST", protocol.PathCheckin, dev.Credential, protocol.CheckinRequest{Fingerprint: fp}, &pe); st != 410 || pe.Code != protocol.ErrLicenseRevoked {
			t.Fatalf("check-in after release: %d %+v", st, pe)
		}
		if st := re.call(t, "GET", subURL(org, sub), tok, nil, &got); st != 200 || got.Assigned != 0 {
			t.Fatalf("after release: %d %+v", st, got)
		}
	})
}
