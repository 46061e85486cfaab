package authz

import (
	"maps"
	"strings"
)

// Access is who may call a route.
type Access string

// Access levels. Org-scoped levels (Member, Admin, Owner) apply to the
// organization named by the route's {org} path value; the operator passes
// every one of them.
const (
	Public   Access = "public"   // anyone; the route checks what its body carries (a license key, a password, a token)
	Device   Access = "device"   // a device credential (Authorization: Bearer <device credential>)
	Session  Access = "session"  // a signed-in account (bearer session token)
	Member   Access = "member"   // a member of {org}, any role
	Admin    Access = "admin"    // an admin or owner of {org}
	Owner    Access = "owner"    // an owner of {org}
	Operator Access = "operator" // an operator token
	Web      Access = "web"      // a browser page: its own cookie session and CSRF token; bearer tokens grant nothing
)

// orgRole is the lowest role an org-scoped access level admits.
func (a Access) orgRole() (Role, bool) {
	switch a {
	case Member:
		return RoleMember, true
	case Admin:
		return RoleAdmin, true
	case Owner:
		return RoleOwner, true
	}
	return RoleNone, false
}

// OrgScoped reports whether a is checked against the {org} path value.
func (a Access) OrgScoped() bool { _, ok := a.orgRole(); return ok }

// routes is the table: every ServeMux pattern the server registers, with who
// may call it. A route missing here fails TestRoleMatrix.
var routes = map[string]Access{
	// Agents and the device protocol.
	"GET /v1/health":            Public,
	"GET /v1/keys":              Public,
	"POST /v1/activations":      Public,
	"POST /v1/device/authorize": Public,
	"POST /v1/device/token":     Public,
	"POST /v1/checkin":          Device,
	"DELETE /v1/device":         Device,
	"GET /metrics":              Public,

	// Accounts.
	"POST /v1/sessions":               Public,
	"DELETE /v1/sessions":             Session,
	"GET /v1/account/licenses":        Session,
	"GET /v1/account/devices":         Session,
	"DELETE /v1/account/devices/{id}": Session,
	"GET /v1/device/stream":           Device,
	"GET /v1/account/journal":         Session,
	"POST /v1/password/forgot":        Public,
	"POST /v1/password/reset":         Public,

	// The account's remote management.
	"GET /v1/account/devices/{id}/commands":                        Session,
	"POST /v1/account/devices/{id}/commands":                       Session,
	"GET /v1/account/workspaces":                                   Session,
	"POST /v1/account/workspaces":                                  Session,
	"GET /v1/account/workspaces/suggestion":                        Session,
	"GET /v1/account/workspaces/{id}":                              Session,
	"PATCH /v1/account/workspaces/{id}":                            Session,
	"DELETE /v1/account/workspaces/{id}":                           Session,
	"GET /v1/account/workspaces/{id}/enrollment-tokens":            Session,
	"POST /v1/account/workspaces/{id}/enrollment-tokens":           Session,
	"DELETE /v1/account/workspaces/{id}/enrollment-tokens/{token}": Session,
	"POST /v1/invitations/accept":                                  Public,
	"GET /v1/orgs":                                                 Session,
	"POST /v1/orgs":                                                Session,

	// An organization.
	"GET /v1/orgs/{org}":                          Member,
	"PATCH /v1/orgs/{org}":                        Owner,
	"GET /v1/orgs/{org}/members":                  Member,
	"GET /v1/orgs/{org}/journal":                  Admin,
	"GET /v1/orgs/{org}/journal.csv":              Admin,
	"POST /v1/orgs/{org}/members":                 Admin,
	"PATCH /v1/orgs/{org}/members/{account}":      Admin,
	"DELETE /v1/orgs/{org}/members/{account}":     Admin,
	"GET /v1/orgs/{org}/invitations":              Admin,
	"POST /v1/orgs/{org}/invitations":             Admin,
	"DELETE /v1/orgs/{org}/invitations/{id}":      Admin,
	"GET /v1/orgs/{org}/domains":                  Admin,
	"POST /v1/orgs/{org}/domains":                 Admin,
	"POST /v1/orgs/{org}/domains/{domain}/verify": Admin,
	"DELETE /v1/orgs/{org}/domains/{domain}":      Admin,

	// An organization's computers and their remote commands (admins only:
	// a member manages their own computers from the account routes).
	"GET /v1/orgs/{org}/devices":                Admin,
	"GET /v1/orgs/{org}/devices/{id}":           Admin,
	"PATCH /v1/orgs/{org}/devices/{id}":         Admin,
	"DELETE /v1/orgs/{org}/devices/{id}":        Admin,
	"GET /v1/orgs/{org}/devices/{id}/commands":  Admin,
	"POST /v1/orgs/{org}/devices/{id}/commands": Admin,
	"POST /v1/orgs/{org}/commands":              Admin,
	// An organization's subscriptions (seat pools) and their assignment.
	"GET /v1/orgs/{org}/subscriptions":                                Admin,
	"GET /v1/orgs/{org}/subscriptions/{sub}":                          Admin,
	"PATCH /v1/orgs/{org}/subscriptions/{sub}":                        Admin,
	"GET /v1/orgs/{org}/subscriptions/{sub}/assignments":              Admin,
	"POST /v1/orgs/{org}/subscriptions/{sub}/assignments":             Admin,
	"DELETE /v1/orgs/{org}/subscriptions/{sub}/assignments/{account}": Admin,
	// Orders: the catalog is for every member to see; orders, their
	// invoices and amounts are the admins'.
	"GET /v1/orgs/{org}/plans":                          Member,
	"GET /v1/orgs/{org}/orders":                         Admin,
	"POST /v1/orgs/{org}/orders":                        Admin,
	"GET /v1/orgs/{org}/orders/{order}":                 Admin,
	"POST /v1/orgs/{org}/orders/{order}/lines":          Admin,
	"DELETE /v1/orgs/{org}/orders/{order}/lines/{line}": Admin,
	"POST /v1/orgs/{org}/orders/{order}/validate":       Admin,
	"POST /v1/orgs/{org}/orders/{order}/confirm":        Admin,
	"POST /v1/orgs/{org}/orders/{order}/cancel":         Admin,
	"GET /v1/orgs/{org}/orders/{order}/invoice":         Admin,

	// The operator.
	"GET /v1/operator/orgs":                                 Operator,
	"POST /v1/operator/orgs":                                Operator,
	"GET /v1/operator/orgs/{org}":                           Operator,
	"POST /v1/operator/orgs/{org}/domains/{domain}/approve": Operator,
	"PATCH /v1/operator/subscriptions/{sub}":                Operator,
	"POST /v1/operator/subscriptions/{sub}/suspend":         Operator,
	"POST /v1/operator/subscriptions/{sub}/resume":          Operator,
	"POST /v1/operator/subscriptions/{sub}/extend":          Operator,
	"GET /v1/operator/plans":                                Operator,
	"POST /v1/operator/plans":                               Operator,
	"PATCH /v1/operator/plans/{plan}":                       Operator,
	"GET /v1/operator/orders":                               Operator,
	"POST /v1/operator/orders/{order}/payment":              Operator,

	// Browser pages (package web).
	"GET /{$}":                           Web,
	"GET /password/forgot":               Web,
	"POST /password/forgot":              Web,
	"GET /password/reset":                Web,
	"POST /password/reset":               Web,
	"GET /login":                         Web,
	"POST /login":                        Web,
	"POST /logout":                       Web,
	"GET /account":                       Web,
	"POST /account/devices/{id}/release": Web,
	"GET /device":                        Web,
	"POST /device/approve":               Web,
	"POST /device/deny":                  Web,

	// The web console's shell and the person's own pages.
	"GET /static/{file}":                Web,
	"POST /language":                    Web,
	"GET /account/computers":            Web,
	"GET /account/devices/{id}/release": Web,
	"GET /account/activity":             Web,
	"GET /account/password":             Web,
	"POST /account/password":            Web,

	// The web console's operator pages (package web, operator*.go): Web
	// here; the page admits only a signed-in person whose account is an
	// operator (organizations.IsOperator) and answers 404 to anyone else.
	"GET /operator/orgs":                    Web,
	"GET /operator/plans":                   Web,
	"POST /operator/plans":                  Web,
	"GET /operator/plans/{plan}":            Web,
	"POST /operator/plans/{plan}":           Web,
	"GET /operator/orders":                  Web,
	"GET /operator/orders/{order}/payment":  Web,
	"POST /operator/orders/{order}/payment": Web,

	// The web console's organization pages: Web here, and the page checks
	// the role itself with Decide (admins; 404 for a non-member).
	"GET /orgs/{org}/members":                   Web,
	"POST /orgs/{org}/members/{account}/role":   Web,
	"GET /orgs/{org}/members/{account}/remove":  Web,
	"POST /orgs/{org}/members/{account}/remove": Web,
	"GET /orgs/{org}/invitations":               Web,
	"POST /orgs/{org}/invitations":              Web,
	"GET /orgs/{org}/invitations/{id}/revoke":   Web,
	"POST /orgs/{org}/invitations/{id}/revoke":  Web,
	"GET /orgs/{org}/domains":                   Web,
	"POST /orgs/{org}/domains":                  Web,
	"POST /orgs/{org}/domains/{domain}/verify":  Web,
	"GET /orgs/{org}/workspaces":                Web,
	"POST /orgs/{org}/workspaces":               Web,
	"GET /orgs/{org}/workspaces/{id}/delete":    Web,
	"POST /orgs/{org}/workspaces/{id}/delete":   Web,
	"GET /orgs/{org}/journal":                   Web,
	"GET /orgs/{org}/journal.csv":               Web,
	"GET /invitations/accept":                   Web,
	"POST /invitations/accept":                  Web,

	// The console's overview and computer pages (server/web
	// org_overview.go, org_computers*.go): Web here, and the page checks
	// the organization admin role with Decide.
	"GET /orgs/{org}/overview":                     Web,
	"GET /orgs/{org}/computers":                    Web,
	"GET /orgs/{org}/computers/commands/confirm":   Web,
	"POST /orgs/{org}/computers/commands":          Web,
	"GET /orgs/{org}/computers/{id}":               Web,
	"GET /orgs/{org}/computers/{id}/commands.json": Web,
	"POST /orgs/{org}/computers/{id}/name":         Web,
	"GET /orgs/{org}/computers/{id}/release":       Web,
	"POST /orgs/{org}/computers/{id}/release":      Web,
	// The web console's licenses and purchases, the license of each member,
	// the organization's settings (server/web org_purchases*.go,
	// org_users.go, org_settings.go): Web here, and the page checks the
	// role in {org} (Admin; the settings Owner) with the API's rules.
	"GET /orgs/{org}/purchases":                                Web,
	"GET /orgs/{org}/subscriptions/{sub}/renewal":              Web,
	"POST /orgs/{org}/subscriptions/{sub}/renewal":             Web,
	"GET /orgs/{org}/orders":                                   Web,
	"POST /orgs/{org}/orders":                                  Web,
	"GET /orgs/{org}/orders/{order}":                           Web,
	"POST /orgs/{org}/orders/{order}/lines":                    Web,
	"POST /orgs/{org}/orders/{order}/lines/{line}/remove":      Web,
	"POST /orgs/{org}/orders/{order}/validate":                 Web,
	"POST /orgs/{org}/orders/{order}/confirm":                  Web,
	"GET /orgs/{org}/orders/{order}/cancel":                    Web,
	"POST /orgs/{org}/orders/{order}/cancel":                   Web,
	"GET /orgs/{org}/orders/{order}/invoice":                   Web,
	"GET /orgs/{org}/members/{account}/license":                Web,
	"POST /orgs/{org}/members/{account}/license":               Web,
	"GET /orgs/{org}/members/{account}/license/{sub}/release":  Web,
	"POST /orgs/{org}/members/{account}/license/{sub}/release": Web,
	"GET /orgs/{org}/settings":                                 Web,
	"POST /orgs/{org}/settings":                                Web,
	"POST /orgs/{org}/settings/billing/{account}":              Web,
}

// Lookup returns who may call the route with ServeMux pattern p.
func Lookup(pattern string) (Access, bool) {
	a, ok := routes[pattern]
	return a, ok
}

// Table returns a copy of the route table.
func Table() map[string]Access { return maps.Clone(routes) }

// Decision is the outcome of checking a principal against a route.
type Decision int

// Decisions. Hidden answers 404 so a non-member cannot tell an
// organization that exists from one that does not.
const (
	Allow           Decision = iota
	Unauthenticated          // 401: no (valid) credential
	Hidden                   // 404: not a member of {org}
	Forbidden                // 403: a member whose role is too low, or the wrong kind of caller
)

// Decide checks p against a. anonymous is true when the request carried no
// valid credential. Device and Public routes are always allowed here: the
// handler checks the device credential or the body itself.
func Decide(a Access, p Principal, anonymous bool) Decision {
	switch a {
	case Public, Device, Web:
		return Allow
	}
	if anonymous {
		return Unauthenticated
	}
	if p.Operator {
		if a == Session {
			return Forbidden
		}
		return Allow
	}
	switch a {
	case Session:
		return Allow
	case Operator:
		return Forbidden
	}
	min, _ := a.orgRole()
	switch {
	case p.Role == RoleNone:
		return Hidden
	case !p.Role.AtLeast(min):
		return Forbidden
	}
	return Allow
}

// PathOrg reports whether a pattern names an organization.
func PathOrg(pattern string) bool { return strings.Contains(pattern, "{org}") }
