package httpapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
)

// subscription makes an organization with a subscription of 3 seats and a
// member; it returns the owner's session, the organization, the
// subscription and the member's account id.
func (re *routeEnv) subscription(t *testing.T) (string, string, string, string) {
	t.Helper()
	tok, org := re.org(t)
	member := re.member(t, org)
	ctx := context.Background()
	plan := fmt.Sprintf("pln_j%d", re.n)
	if _, err := re.DB.Exec(ctx, `INSERT INTO plans (id, code, name, features, max_profiles, devices_per_seat, term_months,
		seat_price_cents, currency, active, created_at) VALUES (?, ?, 'Pro', '["sign"]', 5, 1, 12, 1000, 'EUR', ?, ?)`,
		plan, plan, true, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	return tok, org, re.credit(t, org, plan), member
}

func subURL(org, sub string) string { return orgURL(adminapi.PathSubscriptions, org) + "/" + sub }

// The subscription routes' cases of TestEveryStateChangingRouteJournals.
func init() {
	journalCases["PATCH "+adminapi.PathSubscription] = func(t *testing.T, re *routeEnv) func() int {
		tok, org, sub, _ := re.subscription(t)
		off := false
		return func() int {
			return re.call(t, "PATCH", subURL(org, sub), tok, adminapi.UpdateSubscriptionRequest{AutoRenew: &off}, nil)
		}
	}
	journalCases["POST "+adminapi.PathAssignments] = func(t *testing.T, re *routeEnv) func() int {
		tok, org, sub, member := re.subscription(t)
		return func() int {
			return re.call(t, "POST", subURL(org, sub)+"/assignments", tok, adminapi.AssignRequest{AccountID: member}, nil)
		}
	}
	journalCases["DELETE "+adminapi.PathAssignment] = func(t *testing.T, re *routeEnv) func() int {
		tok, org, sub, member := re.subscription(t)
		if st := re.call(t, "POST", subURL(org, sub)+"/assignments", tok, adminapi.AssignRequest{AccountID: member}, nil); st != 201 {
			t.Fatalf("assign: %d", st)
		}
		return func() int { return re.call(t, "DELETE", subURL(org, sub)+"/assignments/"+member, tok, nil, nil) }
	}
	operatorCase := func(method, suffix string, body any, prepare func(t *testing.T, re *routeEnv, op, sub string)) func(t *testing.T, re *routeEnv) func() int {
		return func(t *testing.T, re *routeEnv) func() int {
			op := re.operatorToken(t)
			_, _, sub, _ := re.subscription(t)
			if prepare != nil {
				prepare(t, re, op, sub)
			}
			return func() int {
				return re.call(t, method, adminapi.PathOperatorSubscriptions+"/"+sub+suffix, op, body, nil)
			}
		}
	}
	six := 6
	journalCases["PATCH "+adminapi.PathOperatorSubscription] = operatorCase("PATCH", "", adminapi.UpdateSubscriptionRequest{TermMonths: &six}, nil)
	journalCases["POST "+adminapi.PathOperatorSubSuspend] = operatorCase("POST", "/suspend", adminapi.SuspendRequest{Reason: "unpaid"}, nil)
	journalCases["POST "+adminapi.PathOperatorSubResume] = operatorCase("POST", "/resume", nil, func(t *testing.T, re *routeEnv, op, sub string) {
		if st := re.call(t, "POST", adminapi.PathOperatorSubscriptions+"/"+sub+"/suspend", op, adminapi.SuspendRequest{}, nil); st != 200 {
			t.Fatalf("suspend: %d", st)
		}
	})
	journalCases["POST "+adminapi.PathOperatorSubExtend] = operatorCase("POST", "/extend", adminapi.ExtendRequest{TermEnd: time.Now().AddDate(2, 0, 0).UTC()}, nil)
}
