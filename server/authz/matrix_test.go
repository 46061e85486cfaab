package authz_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/libopenapi-validator"

	"github.com/entitle/entitle/internal/dnstest"
	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/pkg/testenv/openapitest"
	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
	"github.com/entitle/entitle/server/subscriptions"
)

// tenant is one organization with a member of each role and one of
// everything a route can name.
type tenant struct {
	tag, id, name, domain string
	owner, admin, member  string // account ids
	target                string // a plain member the routes change
	newcomer              string // email of an account that is not a member
	invitation, invToken  string
	pending               string // a claimed domain, its challenge published in DNS
	device                string // a computer on the target's organization license
	sub                   string // a subscription of 5 seats, one assigned to member
	sessions              map[string]string
	// Orders: a cart with one line, a validated and a confirmed order.
	cart, cartLine, validated, confirmed string
}

// markers are strings only this tenant's data contains.
func (t tenant) markers() []string {
	return []string{t.id, t.name, "owner@" + t.domain, "target@" + t.domain}
}

type world struct {
	t    *testing.T
	e    *apitest.Env
	dns  *dnstest.Server
	op   string // operator token
	n    int
	plan string // an active plan every tenant orders
}

func (w *world) ctx() context.Context { return context.Background() }

func (w *world) account(email string) string {
	w.t.Helper()
	a, err := w.e.App.Accounts.CreateAccount(w.ctx(), email, apptest.Password)
	if err != nil {
		w.t.Fatal(err)
	}
	return a.ID
}

func (w *world) session(acc string) string {
	w.t.Helper()
	tok, err := w.e.App.Accounts.NewSession(w.ctx(), acc)
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}

var operator = authz.Principal{Operator: true, TokenID: "matrix"}

// tenant makes a fresh organization.
func (w *world) tenant(prefix string) tenant {
	w.t.Helper()
	w.n++
	tag := fmt.Sprintf("%s%d", prefix, w.n)
	o := w.e.App.Organizations
	ctx := w.ctx()
	tn := tenant{tag: tag, domain: tag + ".example", name: "Org " + tag}
	tn.owner = w.account("owner@" + tn.domain)
	org, err := o.Create(ctx, "account:"+tn.owner, tn.name, tn.owner)
	if err != nil {
		w.t.Fatal(err)
	}
	tn.id = org.ID
	if _, err := o.ApproveDomain(ctx, operator, tn.id, tn.domain); err != nil {
		w.t.Fatal(err)
	}
	tn.admin = w.account("admin@" + tn.domain)
	tn.member = w.account("member@" + tn.domain)
	tn.target = w.account("target@" + tn.domain)
	tn.newcomer = "newcomer@" + tn.domain
	w.account(tn.newcomer)
	for acc, r := range map[string]authz.Role{"admin@": authz.RoleAdmin, "member@": authz.RoleMember, "target@": authz.RoleMember} {
		if _, err := o.AddMember(ctx, operator, tn.id, acc+tn.domain, r); err != nil {
			w.t.Fatal(err)
		}
	}
	inv, tok, err := o.Invite(ctx, operator, tn.id, "invitee@"+tn.domain, authz.RoleMember, "")
	if err != nil {
		w.t.Fatal(err)
	}
	tn.invitation, tn.invToken = inv.ID, tok
	d, err := o.AddDomain(ctx, operator, tn.id, "pending."+tn.domain)
	if err != nil {
		w.t.Fatal(err)
	}
	tn.pending = d.Domain
	w.dns.Set(d.RecordName(), d.Challenge)
	lic := apptest.OrgLicense(w.t, w.e.App, w.e.DB, tn.id, "target@"+tn.domain, "Pro", 3, "remote")
	act, err := w.e.App.Devices.Activate(ctx, apptest.KeyRequest(lic.Key, apptest.FP(tag)), "192.0.2.1")
	if err != nil {
		w.t.Fatal(err)
	}
	tn.device = act.DeviceID
	if _, err := w.e.DB.Exec(ctx, `INSERT INTO plans (id, code, name, features, max_profiles, devices_per_seat, term_months,
		seat_price_cents, currency, active, created_at) VALUES (?, ?, ?, '["sign"]', 5, 1, 12, 1000, 'EUR', ?, ?)`,
		"pln_"+tag, tag, "Plan "+tag, true, time.Now().UnixMilli()); err != nil {
		w.t.Fatal(err)
	}
	if err := w.e.DB.InTx(ctx, func(tx *store.Tx) error {
		tn.sub, err = subscriptions.Credit(ctx, tx, time.Now(), subscriptions.CreditSpec{OrganizationID: tn.id, PlanID: "pln_" + tag, Quantity: 5, Actor: "system"})
		return err
	}); err != nil {
		w.t.Fatal(err)
	}
	if _, _, err := w.e.App.Subscriptions.Assign(ctx, operator, tn.id, tn.sub, tn.member); err != nil {
		w.t.Fatal(err)
	}
	tn.sessions = map[string]string{"owner": w.session(tn.owner), "admin": w.session(tn.admin), "member": w.session(tn.member)}
	w.orders(&tn)
	return tn
}

// orders gives the tenant a cart, a validated and a confirmed order.
func (w *world) orders(tn *tenant) {
	w.t.Helper()
	ctx := w.ctx()
	if w.plan == "" {
		p, err := w.e.App.Plans.Create(ctx, "operator:matrix", adminapi.CreatePlanRequest{Code: "matrix", Name: "Matrix", TermMonths: 12, SeatPriceCents: 1000})
		if err != nil {
			w.t.Fatal(err)
		}
		w.plan = p.ID
	}
	line := []adminapi.LineRequest{{PlanID: w.plan, Quantity: 1}}
	var ids [3]string
	for i := range ids {
		o, err := w.e.App.Orders.Create(ctx, "account:"+tn.owner, tn.id, line)
		if err != nil {
			w.t.Fatal(err)
		}
		ids[i] = o.ID
		if i == 0 {
			tn.cartLine = o.Lines[0].ID
			continue
		}
		if _, err := w.e.App.Orders.Validate(ctx, "account:"+tn.owner, tn.id, o.ID); err != nil {
			w.t.Fatal(err)
		}
		if i == 2 {
			if _, err := w.e.App.Orders.Confirm(ctx, "account:"+tn.owner, tn.id, o.ID, "PO-1"); err != nil {
				w.t.Fatal(err)
			}
		}
	}
	tn.cart, tn.validated, tn.confirmed = ids[0], ids[1], ids[2]
}

// snapshot is every row of the organization's tables, as text.
func (w *world) snapshot(orgID string) string {
	w.t.Helper()
	var b strings.Builder
	for _, q := range []string{
		"SELECT * FROM organizations WHERE id = ? ORDER BY id",
		"SELECT * FROM memberships WHERE organization_id = ? ORDER BY id",
		"SELECT * FROM invitations WHERE organization_id = ? ORDER BY id",
		"SELECT * FROM domains WHERE organization_id = ? ORDER BY id",
		"SELECT * FROM mail_outbox WHERE organization_id = ? ORDER BY id",
		"SELECT * FROM devices WHERE organization_id = ? ORDER BY id",
		"SELECT * FROM device_commands WHERE device_id IN (SELECT id FROM devices WHERE organization_id = ?) ORDER BY id",
		"SELECT * FROM command_bulk_requests WHERE organization_id = ? ORDER BY id",
		"SELECT * FROM subscriptions WHERE organization_id = ? ORDER BY id",
		"SELECT * FROM licenses WHERE organization_id = ? ORDER BY id",
		"SELECT * FROM orders WHERE organization_id = ? ORDER BY id",
		"SELECT l.* FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.organization_id = ? ORDER BY l.id",
		"SELECT * FROM subscriptions WHERE organization_id = ? ORDER BY id",
	} {
		rows, err := w.e.DB.Query(w.ctx(), q, orgID)
		if err != nil {
			w.t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				w.t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %v\n", q[14:30], vals)
		}
		rows.Close()
	}
	return b.String()
}

// call is one request a route gets.
type call struct {
	method, path string
	body         any
	// allowed is the status an allowed caller gets.
	allowed int
}

// builder makes the request for a route: org is the {org} of the path, res
// the tenant whose resources (members, invitations, domains) it names.
type builder func(w *world, org string, res tenant) call

func jsonCall(method, path string, body any, allowed int) call {
	return call{method: method, path: path, body: body, allowed: allowed}
}

func orgPath(p, org string) string { return strings.Replace(p, "{org}", org, 1) }

func orderPath(p, org, order string) string {
	return strings.Replace(orgPath(p, org), "{order}", order, 1)
}

// routes gives every route a request. A route the server serves without a
// builder here fails the test, as does one missing from the authz table.
var builders = map[string]builder{
	"GET /v1/health":       func(*world, string, tenant) call { return jsonCall("GET", "/v1/health", nil, 200) },
	"GET /v1/keys":         func(*world, string, tenant) call { return jsonCall("GET", "/v1/keys", nil, 200) },
	"GET /metrics":         func(*world, string, tenant) call { return jsonCall("GET", "/metrics", nil, 200) },
	"POST /v1/activations": func(*world, string, tenant) call { return jsonCall("POST", "/v1/activations", map[string]any{}, 400) },
	"POST /v1/device/authorize": func(*world, string, tenant) call {
		return jsonCall("POST", "/v1/device/authorize", map[string]any{}, 400)
	},
	"POST /v1/device/token": func(*world, string, tenant) call { return jsonCall("POST", "/v1/device/token", map[string]any{}, 400) },
	"POST /v1/checkin": func(*world, string, tenant) call {
		return jsonCall("POST", "/v1/checkin", protocol.CheckinRequest{Fingerprint: apitest.Fingerprint("m"), Device: apptest.Facts("m")}, 200)
	},
	"DELETE /v1/device": func(*world, string, tenant) call { return jsonCall("DELETE", "/v1/device", nil, 204) },
	"POST /v1/sessions": func(*world, string, tenant) call {
		return jsonCall("POST", "/v1/sessions", map[string]string{"email": "loner@solo.example", "password": apptest.Password}, 201)
	},
	"DELETE /v1/sessions":             func(*world, string, tenant) call { return jsonCall("DELETE", "/v1/sessions", nil, 204) },
	"GET /v1/account/licenses":        func(*world, string, tenant) call { return jsonCall("GET", "/v1/account/licenses", nil, 200) },
	"GET /v1/account/devices":         func(*world, string, tenant) call { return jsonCall("GET", "/v1/account/devices", nil, 200) },
	"DELETE /v1/account/devices/{id}": func(*world, string, tenant) call { return jsonCall("DELETE", "/v1/account/devices/dev_none", nil, 404) },
	"GET /v1/device/stream":           func(*world, string, tenant) call { return jsonCall("GET", "/v1/device/stream", nil, 200) },
	"GET /v1/account/journal":         func(*world, string, tenant) call { return jsonCall("GET", "/v1/account/journal", nil, 200) },
	"POST /v1/password/forgot": func(_ *world, _ string, r tenant) call {
		// A new address each time: the per-address limit is not what is tested.
		return jsonCall("POST", "/v1/password/forgot", map[string]string{"email": "forgot-" + strings.ToLower(r.id) + "@solo.example"}, 202)
	},
	"POST /v1/password/reset": func(*world, string, tenant) call {
		return jsonCall("POST", "/v1/password/reset", map[string]string{"token": strings.Repeat("x", 43), "new_password": "a new long password"}, 400)
	},
	"GET /v1/account/devices/{id}/commands": func(*world, string, tenant) call {
		return jsonCall("GET", "/v1/account/devices/dev_none/commands", nil, 404)
	},
	"POST /v1/account/devices/{id}/commands": func(*world, string, tenant) call {
		return jsonCall("POST", "/v1/account/devices/dev_none/commands", map[string]string{"type": "refresh_lease"}, 404)
	},
	"GET /v1/account/workspaces": func(*world, string, tenant) call { return jsonCall("GET", "/v1/account/workspaces", nil, 200) },
	"POST /v1/account/workspaces": func(*world, string, tenant) call {
		return jsonCall("POST", "/v1/account/workspaces", map[string]string{"name": "Parc", "license_id": "lic_none"}, 404)
	},
	"GET /v1/account/workspaces/suggestion": func(*world, string, tenant) call {
		return jsonCall("GET", "/v1/account/workspaces/suggestion", nil, 200)
	},
	"GET /v1/account/workspaces/{id}": func(*world, string, tenant) call {
		return jsonCall("GET", "/v1/account/workspaces/ws_none", nil, 404)
	},
	"PATCH /v1/account/workspaces/{id}": func(*world, string, tenant) call {
		return jsonCall("PATCH", "/v1/account/workspaces/ws_none", map[string]string{"name": "Autre"}, 404)
	},
	"DELETE /v1/account/workspaces/{id}": func(*world, string, tenant) call {
		return jsonCall("DELETE", "/v1/account/workspaces/ws_none", nil, 404)
	},
	"GET /v1/account/workspaces/{id}/enrollment-tokens": func(*world, string, tenant) call {
		return jsonCall("GET", "/v1/account/workspaces/ws_none/enrollment-tokens", nil, 404)
	},
	"POST /v1/account/workspaces/{id}/enrollment-tokens": func(*world, string, tenant) call {
		return jsonCall("POST", "/v1/account/workspaces/ws_none/enrollment-tokens", map[string]any{}, 404)
	},
	"DELETE /v1/account/workspaces/{id}/enrollment-tokens/{token}": func(*world, string, tenant) call {
		return jsonCall("DELETE", "/v1/account/workspaces/ws_none/enrollment-tokens/enr_none", nil, 404)
	},
	"GET /v1/orgs/{org}/journal": func(_ *world, org string, _ tenant) call {
		return jsonCall("GET", orgPath("/v1/orgs/{org}/journal", org), nil, 200)
	},
	"GET /v1/orgs/{org}/journal.csv": func(_ *world, org string, _ tenant) call {
		return jsonCall("GET", orgPath("/v1/orgs/{org}/journal.csv", org), nil, 200)
	},
	"GET /password/forgot": func(*world, string, tenant) call { return call{method: "GET", path: "/password/forgot"} },
	"POST /password/forgot": func(*world, string, tenant) call {
		return call{method: "POST", path: "/password/forgot", body: "csrf=x"}
	},
	"GET /password/reset": func(*world, string, tenant) call { return call{method: "GET", path: "/password/reset"} },
	"POST /password/reset": func(*world, string, tenant) call {
		return call{method: "POST", path: "/password/reset", body: "csrf=x"}
	},
	"POST /v1/invitations/accept": func(_ *world, _ string, r tenant) call {
		return jsonCall("POST", adminapi.PathInvitationAccept, adminapi.AcceptRequest{Token: r.invToken, Password: apptest.Password}, 201)
	},
	"GET /v1/orgs": func(*world, string, tenant) call { return jsonCall("GET", "/v1/orgs", nil, 200) },
	"POST /v1/orgs": func(*world, string, tenant) call {
		return jsonCall("POST", "/v1/orgs", adminapi.CreateOrgRequest{Name: "New org"}, 201)
	},
	"GET /v1/orgs/{org}": func(_ *world, org string, _ tenant) call {
		return jsonCall("GET", orgPath(adminapi.PathOrg, org), nil, 200)
	},
	"PATCH /v1/orgs/{org}": func(_ *world, org string, _ tenant) call {
		name := "Renamed"
		return jsonCall("PATCH", orgPath(adminapi.PathOrg, org), adminapi.UpdateOrgRequest{Name: &name}, 200)
	},
	"GET /v1/orgs/{org}/members": func(_ *world, org string, _ tenant) call {
		return jsonCall("GET", orgPath(adminapi.PathMembers, org), nil, 200)
	},
	"POST /v1/orgs/{org}/members": func(_ *world, org string, r tenant) call {
		return jsonCall("POST", orgPath(adminapi.PathMembers, org), adminapi.AddMemberRequest{Email: r.newcomer, Role: "member"}, 201)
	},
	"PATCH /v1/orgs/{org}/members/{account}": func(_ *world, org string, r tenant) call {
		role := "admin"
		return jsonCall("PATCH", orgPath(adminapi.PathMembers, org)+"/"+r.target, adminapi.UpdateMemberRequest{Role: &role}, 200)
	},
	"DELETE /v1/orgs/{org}/members/{account}": func(_ *world, org string, r tenant) call {
		return jsonCall("DELETE", orgPath(adminapi.PathMembers, org)+"/"+r.target, nil, 200)
	},
	"GET /v1/orgs/{org}/invitations": func(_ *world, org string, _ tenant) call {
		return jsonCall("GET", orgPath(adminapi.PathInvitations, org), nil, 200)
	},
	"POST /v1/orgs/{org}/invitations": func(_ *world, org string, r tenant) call {
		return jsonCall("POST", orgPath(adminapi.PathInvitations, org), adminapi.InviteRequest{Email: "fresh@" + r.domain, Role: "member"}, 201)
	},
	"DELETE /v1/orgs/{org}/invitations/{id}": func(_ *world, org string, r tenant) call {
		return jsonCall("DELETE", orgPath(adminapi.PathInvitations, org)+"/"+r.invitation, nil, 204)
	},
	"GET /v1/orgs/{org}/domains": func(_ *world, org string, _ tenant) call {
		return jsonCall("GET", orgPath(adminapi.PathDomains, org), nil, 200)
	},
	"POST /v1/orgs/{org}/domains": func(_ *world, org string, r tenant) call {
		return jsonCall("POST", orgPath(adminapi.PathDomains, org), adminapi.AddDomainRequest{Domain: "extra." + r.domain}, 201)
	},
	"POST /v1/orgs/{org}/domains/{domain}/verify": func(_ *world, org string, r tenant) call {
		return jsonCall("POST", orgPath(adminapi.PathDomains, org)+"/"+r.pending+"/verify", nil, 200)
	},
	"DELETE /v1/orgs/{org}/domains/{domain}": func(_ *world, org string, r tenant) call {
		return jsonCall("DELETE", orgPath(adminapi.PathDomains, org)+"/"+r.pending, nil, 204)
	},
	"GET /v1/orgs/{org}/devices": func(_ *world, org string, _ tenant) call {
		return jsonCall("GET", orgPath(adminapi.PathOrgDevices, org)+"?sort=hostname&order=asc", nil, 200)
	},
	"GET /v1/orgs/{org}/devices/{id}": func(_ *world, org string, r tenant) call {
		return jsonCall("GET", orgPath(adminapi.PathOrgDevices, org)+"/"+r.device, nil, 200)
	},
	"PATCH /v1/orgs/{org}/devices/{id}": func(_ *world, org string, r tenant) call {
		name := "Poste de test"
		return jsonCall("PATCH", orgPath(adminapi.PathOrgDevices, org)+"/"+r.device, adminapi.RenameDeviceRequest{Name: &name}, 200)
	},
	"DELETE /v1/orgs/{org}/devices/{id}": func(_ *world, org string, r tenant) call {
		return jsonCall("DELETE", orgPath(adminapi.PathOrgDevices, org)+"/"+r.device, nil, 204)
	},
	"GET /v1/orgs/{org}/devices/{id}/commands": func(_ *world, org string, r tenant) call {
		return jsonCall("GET", orgPath(adminapi.PathOrgDevices, org)+"/"+r.device+"/commands", nil, 200)
	},
	"POST /v1/orgs/{org}/devices/{id}/commands": func(_ *world, org string, r tenant) call {
		return jsonCall("POST", orgPath(adminapi.PathOrgDevices, org)+"/"+r.device+"/commands", map[string]string{"type": "refresh_lease"}, 201)
	},
	"POST /v1/orgs/{org}/commands": func(_ *world, org string, r tenant) call {
		return jsonCall("POST", orgPath(adminapi.PathOrgCommands, org), adminapi.BulkCommandRequest{DeviceIDs: []string{r.device},
			Type: "refresh_lease", IdempotencyKey: "matrix"}, 201)
	},
	"GET /v1/operator/orgs": func(*world, string, tenant) call { return jsonCall("GET", adminapi.PathOperatorOrgs, nil, 200) },
	"POST /v1/operator/orgs": func(_ *world, _ string, r tenant) call {
		return jsonCall("POST", adminapi.PathOperatorOrgs, adminapi.CreateOrgRequest{Name: "Made by the operator", OwnerEmail: r.newcomer}, 201)
	},
	"GET /v1/operator/orgs/{org}": func(_ *world, org string, _ tenant) call {
		return jsonCall("GET", orgPath(adminapi.PathOperatorOrg, org), nil, 200)
	},
	"POST /v1/operator/orgs/{org}/domains/{domain}/approve": func(_ *world, org string, r tenant) call {
		return jsonCall("POST", orgPath(adminapi.PathOperatorOrg, org)+"/domains/"+r.pending+"/approve", nil, 200)
	},
	"GET /v1/orgs/{org}/subscriptions": func(_ *world, org string, _ tenant) call {
		return jsonCall("GET", orgPath(adminapi.PathSubscriptions, org), nil, 200)
	},
	"GET /v1/orgs/{org}/subscriptions/{sub}": func(_ *world, org string, r tenant) call {
		return jsonCall("GET", orgPath(adminapi.PathSubscriptions, org)+"/"+r.sub, nil, 200)
	},
	"PATCH /v1/orgs/{org}/subscriptions/{sub}": func(_ *world, org string, r tenant) call {
		off := false
		return jsonCall("PATCH", orgPath(adminapi.PathSubscriptions, org)+"/"+r.sub, adminapi.UpdateSubscriptionRequest{AutoRenew: &off}, 200)
	},
	"GET /v1/orgs/{org}/subscriptions/{sub}/assignments": func(_ *world, org string, r tenant) call {
		return jsonCall("GET", orgPath(adminapi.PathSubscriptions, org)+"/"+r.sub+"/assignments", nil, 200)
	},
	"POST /v1/orgs/{org}/subscriptions/{sub}/assignments": func(_ *world, org string, r tenant) call {
		return jsonCall("POST", orgPath(adminapi.PathSubscriptions, org)+"/"+r.sub+"/assignments", adminapi.AssignRequest{AccountID: r.target}, 201)
	},
	"DELETE /v1/orgs/{org}/subscriptions/{sub}/assignments/{account}": func(_ *world, org string, r tenant) call {
		return jsonCall("DELETE", orgPath(adminapi.PathSubscriptions, org)+"/"+r.sub+"/assignments/"+r.member, nil, 204)
	},
	"PATCH /v1/operator/subscriptions/{sub}": func(_ *world, _ string, r tenant) call {
		six := 6
		return jsonCall("PATCH", adminapi.PathOperatorSubscriptions+"/"+r.sub, adminapi.UpdateSubscriptionRequest{TermMonths: &six}, 200)
	},
	"POST /v1/operator/subscriptions/{sub}/suspend": func(_ *world, _ string, r tenant) call {
		return jsonCall("POST", adminapi.PathOperatorSubscriptions+"/"+r.sub+"/suspend", adminapi.SuspendRequest{Reason: "unpaid"}, 200)
	},
	"POST /v1/operator/subscriptions/{sub}/resume": func(_ *world, _ string, r tenant) call {
		return jsonCall("POST", adminapi.PathOperatorSubscriptions+"/"+r.sub+"/resume", nil, 200)
	},
	"POST /v1/operator/subscriptions/{sub}/extend": func(_ *world, _ string, r tenant) call {
		return jsonCall("POST", adminapi.PathOperatorSubscriptions+"/"+r.sub+"/extend", adminapi.ExtendRequest{TermEnd: time.Now().AddDate(2, 0, 0).UTC()}, 200)
	},
	"GET /v1/orgs/{org}/plans": func(_ *world, org string, _ tenant) call {
		return jsonCall("GET", orgPath(adminapi.PathOrgPlans, org), nil, 200)
	},
	"GET /v1/orgs/{org}/orders": func(_ *world, org string, _ tenant) call {
		return jsonCall("GET", orgPath(adminapi.PathOrders, org), nil, 200)
	},
	"POST /v1/orgs/{org}/orders": func(w *world, org string, _ tenant) call {
		return jsonCall("POST", orgPath(adminapi.PathOrders, org), adminapi.CreateOrderRequest{Lines: []adminapi.LineRequest{{PlanID: w.plan, Quantity: 2}}}, 201)
	},
	"GET /v1/orgs/{org}/orders/{order}": func(_ *world, org string, r tenant) call {
		return jsonCall("GET", orderPath(adminapi.PathOrder, org, r.cart), nil, 200)
	},
	"POST /v1/orgs/{org}/orders/{order}/lines": func(w *world, org string, r tenant) call {
		return jsonCall("POST", orderPath(adminapi.PathOrderLines, org, r.cart), adminapi.LineRequest{PlanID: w.plan, Quantity: 5}, 200)
	},
	"DELETE /v1/orgs/{org}/orders/{order}/lines/{line}": func(_ *world, org string, r tenant) call {
		return jsonCall("DELETE", strings.Replace(orderPath(adminapi.PathOrderLine, org, r.cart), "{line}", r.cartLine, 1), nil, 200)
	},
	"POST /v1/orgs/{org}/orders/{order}/validate": func(_ *world, org string, r tenant) call {
		return jsonCall("POST", orderPath(adminapi.PathOrderValidate, org, r.cart), nil, 200)
	},
	"POST /v1/orgs/{org}/orders/{order}/confirm": func(_ *world, org string, r tenant) call {
		return jsonCall("POST", orderPath(adminapi.PathOrderConfirm, org, r.validated), adminapi.ConfirmRequest{PurchaseOrder: "PO-7"}, 200)
	},
	"POST /v1/orgs/{org}/orders/{order}/cancel": func(_ *world, org string, r tenant) call {
		return jsonCall("POST", orderPath(adminapi.PathOrderCancel, org, r.cart), nil, 200)
	},
	"GET /v1/orgs/{org}/orders/{order}/invoice": func(_ *world, org string, r tenant) call {
		return jsonCall("GET", orderPath(adminapi.PathOrderInvoice, org, r.confirmed), nil, 200)
	},
	"GET /v1/operator/plans": func(*world, string, tenant) call { return jsonCall("GET", adminapi.PathOperatorPlans, nil, 200) },
	"POST /v1/operator/plans": func(w *world, _ string, _ tenant) call {
		w.n++
		return jsonCall("POST", adminapi.PathOperatorPlans, adminapi.CreatePlanRequest{Code: fmt.Sprintf("p%d", w.n), Name: "New", TermMonths: 1}, 201)
	},
	"PATCH /v1/operator/plans/{plan}": func(w *world, _ string, _ tenant) call {
		name := "Matrix renamed"
		return jsonCall("PATCH", strings.Replace(adminapi.PathOperatorPlan, "{plan}", w.plan, 1), adminapi.UpdatePlanRequest{Name: &name}, 200)
	},
	"GET /v1/operator/orders": func(*world, string, tenant) call { return jsonCall("GET", adminapi.PathOperatorOrders, nil, 200) },
	"POST /v1/operator/orders/{order}/payment": func(_ *world, _ string, r tenant) call {
		return jsonCall("POST", strings.Replace(adminapi.PathOperatorOrderPayment, "{order}", r.confirmed, 1), adminapi.PaymentRequest{Reference: "VIR-1"}, 200)
	},
	// Pages: their own cookie session; a bearer token must change nothing.
	"GET /{$}":     func(*world, string, tenant) call { return call{method: "GET", path: "/"} },
	"GET /login":   func(*world, string, tenant) call { return call{method: "GET", path: "/login"} },
	"POST /login":  func(*world, string, tenant) call { return call{method: "POST", path: "/login", body: "csrf=x"} },
	"POST /logout": func(*world, string, tenant) call { return call{method: "POST", path: "/logout", body: "csrf=x"} },
	"GET /account": func(*world, string, tenant) call { return call{method: "GET", path: "/account"} },
	"POST /account/devices/{id}/release": func(*world, string, tenant) call {
		return call{method: "POST", path: "/account/devices/dev_x/release", body: "csrf=x"}
	},
	"GET /device": func(*world, string, tenant) call { return call{method: "GET", path: "/device"} },
	"POST /device/approve": func(*world, string, tenant) call {
		return call{method: "POST", path: "/device/approve", body: "csrf=x"}
	},
	"POST /device/deny":  func(*world, string, tenant) call { return call{method: "POST", path: "/device/deny", body: "csrf=x"} },
	"GET /static/{file}": func(*world, string, tenant) call { return call{method: "GET", path: "/static/console.css"} },
	"POST /language": func(*world, string, tenant) call {
		return call{method: "POST", path: "/language", body: "csrf=x&lang=fr"}
	},
	"GET /account/computers": func(*world, string, tenant) call { return call{method: "GET", path: "/account/computers"} },
	"GET /account/devices/{id}/release": func(*world, string, tenant) call {
		return call{method: "GET", path: "/account/devices/dev_x/release"}
	},
	"GET /account/activity": func(*world, string, tenant) call { return call{method: "GET", path: "/account/activity"} },
	"GET /account/password": func(*world, string, tenant) call { return call{method: "GET", path: "/account/password"} },
	"POST /account/password": func(*world, string, tenant) call {
		return call{method: "POST", path: "/account/password", body: "csrf=x"}
	},
	"GET /orgs/{org}/members":                   webGet("/orgs/{org}/members"),
	"POST /orgs/{org}/members/{account}/role":   webPost("/orgs/{org}/members/{account}/role", "role=owner"),
	"GET /orgs/{org}/members/{account}/remove":  webGet("/orgs/{org}/members/{account}/remove"),
	"POST /orgs/{org}/members/{account}/remove": webPost("/orgs/{org}/members/{account}/remove", ""),
	"GET /orgs/{org}/invitations":               webGet("/orgs/{org}/invitations"),
	"POST /orgs/{org}/invitations":              webPost("/orgs/{org}/invitations", "email=web%40alpha.example&role=member"),
	"GET /orgs/{org}/invitations/{id}/revoke":   webGet("/orgs/{org}/invitations/{id}/revoke"),
	"POST /orgs/{org}/invitations/{id}/revoke":  webPost("/orgs/{org}/invitations/{id}/revoke", ""),
	"GET /orgs/{org}/domains":                   webGet("/orgs/{org}/domains"),
	"POST /orgs/{org}/domains":                  webPost("/orgs/{org}/domains", "domain=web.example"),
	"POST /orgs/{org}/domains/{domain}/verify":  webPost("/orgs/{org}/domains/{domain}/verify", ""),
	"GET /orgs/{org}/workspaces":                webGet("/orgs/{org}/workspaces"),
	"POST /orgs/{org}/workspaces":               webPost("/orgs/{org}/workspaces", "name=W&license=lic_x"),
	"GET /orgs/{org}/workspaces/{id}/delete":    webGet("/orgs/{org}/workspaces/{id}/delete"),
	"POST /orgs/{org}/workspaces/{id}/delete":   webPost("/orgs/{org}/workspaces/{id}/delete", ""),
	"GET /orgs/{org}/journal":                   webGet("/orgs/{org}/journal"),
	"GET /orgs/{org}/journal.csv":               webGet("/orgs/{org}/journal.csv"),
	// The console's overview and computer pages.
	"GET /orgs/{org}/overview":                     webGet("/orgs/{org}/overview"),
	"GET /orgs/{org}/computers":                    webGet("/orgs/{org}/computers"),
	"GET /orgs/{org}/computers/commands/confirm":   webGet("/orgs/{org}/computers/commands/confirm?type=refresh_lease&device=dev_x"),
	"POST /orgs/{org}/computers/commands":          webPost("/orgs/{org}/computers/commands", "type=refresh_lease&device=dev_x&key=k"),
	"GET /orgs/{org}/computers/{id}":               webGet("/orgs/{org}/computers/dev_x"),
	"GET /orgs/{org}/computers/{id}/commands.json": webGet("/orgs/{org}/computers/dev_x/commands.json"),
	"POST /orgs/{org}/computers/{id}/name":         webPost("/orgs/{org}/computers/dev_x/name", "name=N"),
	"GET /orgs/{org}/computers/{id}/release":       webGet("/orgs/{org}/computers/dev_x/release"),
	"POST /orgs/{org}/computers/{id}/release":      webPost("/orgs/{org}/computers/dev_x/release", ""),
	"GET /invitations/accept":                      webGet("/invitations/accept?token=x"),
	"POST /invitations/accept":                     webPost("/invitations/accept", "token=x&password=xxxxxxxxxx"),
	// The console's licenses and purchases, member licenses, settings.
	"GET /orgs/{org}/purchases":                                webGet("/orgs/{org}/purchases"),
	"GET /orgs/{org}/subscriptions/{sub}/renewal":              webGet("/orgs/{org}/subscriptions/{sub}/renewal"),
	"POST /orgs/{org}/subscriptions/{sub}/renewal":             webPost("/orgs/{org}/subscriptions/{sub}/renewal", "auto_renew=off"),
	"GET /orgs/{org}/orders":                                   webGet("/orgs/{org}/orders"),
	"POST /orgs/{org}/orders":                                  webPost("/orgs/{org}/orders", "plan=pln_x&quantity=1"),
	"GET /orgs/{org}/orders/{order}":                           webGet("/orgs/{org}/orders/{order}"),
	"POST /orgs/{org}/orders/{order}/lines":                    webPost("/orgs/{org}/orders/{order}/lines", "plan=pln_x&quantity=2"),
	"POST /orgs/{org}/orders/{order}/lines/{line}/remove":      webPost("/orgs/{org}/orders/{order}/lines/{line}/remove", ""),
	"POST /orgs/{org}/orders/{order}/validate":                 webPost("/orgs/{org}/orders/{order}/validate", ""),
	"POST /orgs/{org}/orders/{order}/confirm":                  webPost("/orgs/{org}/orders/{order}/confirm", "purchase_order=PO-1"),
	"GET /orgs/{org}/orders/{order}/cancel":                    webGet("/orgs/{org}/orders/{order}/cancel"),
	"POST /orgs/{org}/orders/{order}/cancel":                   webPost("/orgs/{org}/orders/{order}/cancel", ""),
	"GET /orgs/{org}/orders/{order}/invoice":                   webGet("/orgs/{org}/orders/{order}/invoice"),
	"GET /orgs/{org}/members/{account}/license":                webGet("/orgs/{org}/members/{account}/license"),
	"POST /orgs/{org}/members/{account}/license":               webPost("/orgs/{org}/members/{account}/license", "subscription=sub_x"),
	"GET /orgs/{org}/members/{account}/license/{sub}/release":  webGet("/orgs/{org}/members/{account}/license/{sub}/release"),
	"POST /orgs/{org}/members/{account}/license/{sub}/release": webPost("/orgs/{org}/members/{account}/license/{sub}/release", ""),
	"GET /orgs/{org}/settings":                                 webGet("/orgs/{org}/settings"),
	"POST /orgs/{org}/settings":                                webPost("/orgs/{org}/settings", "name=Renamed&language=fr"),
	"POST /orgs/{org}/settings/billing/{account}":              webPost("/orgs/{org}/settings/billing/{account}", "billing=on"),
	// The console's operator pages (nobody here signs in to the console:
	// the gate's 404 for non-operators is proven in server/web).
	"GET /operator/orgs":                    webGet("/operator/orgs"),
	"GET /operator/plans":                   webGet("/operator/plans"),
	"POST /operator/plans":                  webPost("/operator/plans", "code=web-plan&name=Web&price=10&term_months=12"),
	"GET /operator/plans/{plan}":            webGet("/operator/plans/pln_x"),
	"POST /operator/plans/{plan}":           webPost("/operator/plans/pln_x", "name=Web&price=10&active=on"),
	"GET /operator/orders":                  webGet("/operator/orders"),
	"GET /operator/orders/{order}/payment":  webGet("/operator/orders/{order}/payment?reference=R"),
	"POST /operator/orders/{order}/payment": webPost("/operator/orders/{order}/payment", "reference=R"),
}

// webPath fills a console page path with the tenant's ids.
func webPath(p, org string, r tenant) string {
	return strings.NewReplacer("{org}", org, "{account}", r.target, "{id}", r.invitation, "{domain}", r.pending,
		"{sub}", r.sub, "{order}", r.cart, "{line}", r.cartLine).Replace(p)
}

// webGet and webPost are the requests of a console page: a bearer token
// must change nothing (the pages' own cookie session is tested in
// server/web).
func webGet(p string) builder {
	return func(_ *world, org string, r tenant) call { return call{method: "GET", path: webPath(p, org, r)} }
}

func webPost(p, form string) builder {
	return func(_ *world, org string, r tenant) call {
		return call{method: "POST", path: webPath(p, org, r), body: strings.TrimSuffix("csrf=x&"+form, "&")}
	}
}

// Callers of the matrix.
const (
	anonymous = "anonymous"
	other     = "member of another organization"
	member    = "member"
	admin     = "admin"
	owner     = "owner"
	operatorR = "operator"
)

var callers = []string{anonymous, other, member, admin, owner, operatorR}

// want is the expected status class: 0 allowed, else the refusal status
// (-1: refused with 401 or 403, the operator on an account route).
func want(a authz.Access, caller string) int {
	switch a {
	case authz.Public, authz.Web:
		return 0
	case authz.Device:
		return 401 // nobody here holds a device credential
	}
	if caller == anonymous {
		return 401
	}
	switch a {
	case authz.Session:
		if caller == operatorR {
			return -1
		}
		return 0
	case authz.Operator:
		if caller == operatorR {
			return 0
		}
		return 403
	}
	// Org-scoped.
	if caller == operatorR {
		return 0
	}
	if caller == other {
		return 404
	}
	rank := map[string]int{member: 1, admin: 2, owner: 3}
	need := map[authz.Access]int{authz.Member: 1, authz.Admin: 2, authz.Owner: 3}
	if rank[caller] < need[a] {
		return 403
	}
	return 0
}

type matrixEnv struct {
	*world
	v     validator.Validator
	bravo tenant
}

func (m *matrixEnv) do(t *testing.T, c call, bearer string) (int, string, *http.Response) {
	t.Helper()
	var body io.Reader
	var raw []byte
	ctype := ""
	switch b := c.body.(type) {
	case nil:
	case string:
		raw, ctype = []byte(b), "application/x-www-form-urlencoded"
	default:
		raw, _ = json.Marshal(b)
		ctype = "application/json"
	}
	if raw != nil {
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(c.method, m.e.URL(c.path), body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	cl := m.e.Server.Client()
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if raw != nil {
		req.Body = io.NopCloser(bytes.NewReader(raw))
	}
	if ok, errs := m.v.ValidateHttpResponse(req, resp); !ok {
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Message+": "+e.Reason)
		}
		t.Errorf("%s %s -> %d does not match docs/openapi/server.yaml: %s\n%s", c.method, c.path, resp.StatusCode, strings.Join(msgs, "; "), b)
	}
	return resp.StatusCode, string(b), resp
}

func leaks(body, request string, markers []string) []string {
	var out []string
	for _, mk := range markers {
		if strings.Contains(body, mk) && !strings.Contains(request, mk) {
			out = append(out, mk)
		}
	}
	return out
}

// TestRoleMatrix calls every route the server registers as every kind of
// caller and checks the answer against the authz table: refused callers get
// 401, 404 (not a member: existence not revealed) or 403, change nothing
// and read nothing; no call reads or changes another organization's data,
// including a caller naming another organization's members, invitations or
// domains under its own organization's path.
func TestRoleMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		dns := dnstest.Start(t)
		e := apitest.StartWith(t, d, func(c *app.Config) {
			c.Resolver = dns.Resolver()
			c.PasswordHash = apptest.CheapArgon()
		})
		w := &world{t: t, e: e, dns: dns}
		_, op, err := e.App.Organizations.CreateOperatorToken(w.ctx(), "test", "matrix")
		if err != nil {
			t.Fatal(err)
		}
		w.op = op
		w.account("loner@solo.example")
		m := &matrixEnv{world: w, v: openapitest.Load(t, filepath.Join(testenv.RepoRoot(t), "docs", "openapi", "server.yaml")), bravo: w.tenant("bravo")}

		routes := e.API.Routes()
		sort.Strings(routes)
		for _, route := range routes {
			access, ok := authz.Lookup(route)
			if !ok {
				t.Errorf("route %s is not in the authz route table", route)
				continue
			}
			build, ok := builders[route]
			if !ok {
				t.Errorf("route %s has no request in TestRoleMatrix's builders", route)
				continue
			}
			t.Run(route, func(t *testing.T) { m.route(t, route, access, build) })
		}
		for route := range authz.Table() {
			if !slices.Contains(routes, route) {
				t.Errorf("the authz table lists %s, which the server does not serve", route)
			}
		}
	})
}

func (m *matrixEnv) bearerFor(caller string, a tenant) string {
	switch caller {
	case anonymous:
		return ""
	case operatorR:
		return m.op
	case other:
		return m.session(m.bravo.owner)
	}
	return m.session(map[string]string{member: a.member, admin: a.admin, owner: a.owner}[caller])
}

func (m *matrixEnv) route(t *testing.T, route string, access authz.Access, build builder) {
	var anonStatus int
	// A read, or a page (a bearer token opens no page), changes nothing for
	// any caller, which the snapshots below check: one organization serves
	// every caller. A change gets a fresh organization per caller.
	var shared *tenant
	if strings.HasPrefix(route, "GET ") || access == authz.Web {
		a := m.tenant("alpha")
		shared = &a
	}
	fresh := func() tenant {
		if shared != nil {
			return *shared
		}
		return m.tenant("alpha")
	}
	for _, caller := range callers {
		a := fresh()
		c := build(m.world, a.id, a)
		beforeA, beforeB := m.snapshot(a.id), m.snapshot(m.bravo.id)
		status, body, _ := m.do(t, c, m.bearerFor(caller, a))
		afterA, afterB := m.snapshot(a.id), m.snapshot(m.bravo.id)
		request := c.path + fmt.Sprint(c.body)
		exp := want(access, caller)
		switch {
		case access == authz.Web:
			if caller == anonymous {
				anonStatus = status
			} else if status != anonStatus {
				t.Errorf("%s: %s got %d, anonymous %d: a bearer token must change nothing on a page", caller, route, status, anonStatus)
			}
		case exp == 0:
			if status != c.allowed {
				t.Errorf("%s: %s allowed caller got %d, want %d\n%s", caller, route, status, c.allowed, body)
			}
		case exp == -1:
			if status != 401 && status != 403 {
				t.Errorf("%s: %s got %d, want 401 or 403\n%s", caller, route, status, body)
			}
		default:
			if status != exp {
				t.Errorf("%s: %s got %d, want %d\n%s", caller, route, status, exp, body)
			}
		}
		if exp != 0 && beforeA != afterA {
			t.Errorf("%s: refused %s changed the organization:\nbefore %s\nafter  %s", caller, route, beforeA, afterA)
		}
		if beforeB != afterB {
			t.Errorf("%s: %s on organization %s changed another organization", caller, route, a.id)
		}
		if access != authz.Public && access != authz.Web && caller != operatorR {
			foreign := m.bravo.markers()
			if caller == other || exp != 0 {
				foreign = append(foreign, a.markers()...)
			}
			if caller == other {
				foreign = m.excludeOwn(foreign)
			}
			if l := leaks(body, request, foreign); len(l) > 0 {
				t.Errorf("%s: %s answered another organization's data %v:\n%s", caller, route, l, body)
			}
		}
	}
	// Under its own organization's path, an owner of another organization
	// names this one's members, invitations and domains: nothing of them is
	// read or changed.
	if access.OrgScoped() {
		a := fresh()
		c := build(m.world, m.bravo.id, a)
		before := m.snapshot(a.id)
		status, body, _ := m.do(t, c, m.session(m.bravo.owner))
		if after := m.snapshot(a.id); after != before {
			t.Errorf("cross-organization %s (status %d) changed the other organization", route, status)
		}
		if l := leaks(body, c.path+fmt.Sprint(c.body), a.markers()); len(l) > 0 {
			t.Errorf("cross-organization %s answered the other organization's data %v:\n%s", route, l, body)
		}
	}
}

// excludeOwn drops bravo's markers: its owner may see its own organization.
func (m *matrixEnv) excludeOwn(markers []string) []string {
	own := m.bravo.markers()
	return slices.DeleteFunc(markers, func(s string) bool { return slices.Contains(own, s) })
}
