package web

import (
	"net/http"
	"strings"

	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/organizations"
)

// orgRoutes are an organization's pages for its admins, under /orgs/{org}:
// members and invitations here, domains and workspaces in org_domains.go,
// the journal in org_journal.go.
func (p *Pages) orgRoutes() []route {
	if p.d.Organizations == nil {
		return nil
	}
	rs := []route{
		admin("GET /orgs/{org}/members", p.membersPage),
		admin("POST /orgs/{org}/members/{account}/role", p.changeRole),
		admin("GET /orgs/{org}/members/{account}/remove", p.removeConfirm),
		admin("POST /orgs/{org}/members/{account}/remove", p.removeMember),
		admin("GET /orgs/{org}/invitations", p.invitationsPage),
		admin("POST /orgs/{org}/invitations", p.invite),
		admin("GET /orgs/{org}/invitations/{id}/revoke", p.revokeConfirm),
		admin("POST /orgs/{org}/invitations/{id}/revoke", p.revokeInvitation),
		admin("GET /orgs/{org}/domains", p.domainsPage),
		admin("POST /orgs/{org}/domains", p.addDomain),
		admin("POST /orgs/{org}/domains/{domain}/verify", p.verifyDomain),
		admin("GET /orgs/{org}/journal", p.orgJournalPage),
		admin("GET /orgs/{org}/journal.csv", p.orgJournalCSV),
		{pattern: "GET " + organizations.AcceptPath, gate: anyone, h: p.acceptPage},
		{pattern: "POST " + organizations.AcceptPath, gate: anyone, h: p.accept},
	}
	if p.d.Workspaces != nil {
		rs = append(rs,
			admin("GET /orgs/{org}/workspaces", p.workspacesPage),
			admin("POST /orgs/{org}/workspaces", p.createWorkspace),
			admin("GET /orgs/{org}/workspaces/{id}/delete", p.deleteWorkspaceConfirm),
			admin("POST /orgs/{org}/workspaces/{id}/delete", p.deleteWorkspace))
	}
	return rs
}

// orgPage is what every organization page carries besides its own data.
type orgPage struct {
	Org  orgView
	Base string // /orgs/{org}
	Data any
}

func (c *call) orgView(title string, data any) View {
	v := c.view("", orgPage{Org: *c.org, Base: "/orgs/" + c.org.ID, Data: data})
	v.Title = c.T(title, i18n.Args{"org": c.org.Name})
	return v
}

// back redirects to an organization page with a notice (a catalog id, shown
// by the page from ?done=).
func (c *call) back(w http.ResponseWriter, r *http.Request, page, done string) {
	http.Redirect(w, r, "/orgs/"+c.org.ID+page+"?done="+done, http.StatusSeeOther)
}

// notices are what ?done= on an organization page may say.
var notices = map[string]string{
	"invited":   "web_org_invited",
	"role":      "web_org_role_changed",
	"removed":   "web_org_member_removed",
	"revoked":   "web_org_invitation_revoked",
	"domain":    "web_org_domain_added",
	"verified":  "web_org_domain_verified",
	"workspace": "web_org_workspace_created",
	"deleted":   "web_org_workspace_deleted",
}

func (c *call) notice(r *http.Request, v *View) { c.noticeOf(r, v, notices) }

// noticeOf sets the page's notice from ?done=, one of m's.
func (c *call) noticeOf(r *http.Request, v *View, m map[string]string) {
	if id, ok := m[r.URL.Query().Get("done")]; ok {
		v.Notice = c.T(id, nil)
	}
}

// roles are the roles an admin may give, lowest first.
var roles = []authz.Role{authz.RoleMember, authz.RoleAdmin, authz.RoleOwner}

// roleNames are the catalog words of the roles.
var roleNames = map[authz.Role]string{authz.RoleMember: "org_role_member", authz.RoleAdmin: "org_role_admin", authz.RoleOwner: "org_role_owner"}

// Option is one choice of a select.
type Option struct {
	Value, Label string
	Selected     bool
}

func (c *call) roleOptions(selected authz.Role) []Option {
	var out []Option
	for _, r := range roles {
		if r == authz.RoleOwner && c.org.Role != authz.RoleOwner {
			continue // only an owner makes owners
		}
		out = append(out, Option{Value: string(r), Label: c.T(roleNames[r], nil), Selected: r == selected})
	}
	return out
}

// MemberRow is a member as the members page shows them.
type MemberRow struct {
	organizations.Member
	RoleName string
	Roles    []Option
}

type membersView struct {
	Members []MemberRow
	Pager   Pager
	Roles   []Option // of the invitation form
	// Licenses: the license icon at the end of each row (the purchases
	// pages are served).
	Licenses bool
}

func (p *Pages) membersPage(w http.ResponseWriter, r *http.Request, c *call) {
	pg, pr, err := listPage(r, pageSize, "web_total_members", func(req paging.Request) (paging.Page[organizations.Member], error) {
		return p.d.Organizations.Members(r.Context(), c.org.ID, req)
	})
	if err != nil {
		c.fail(w, r, "list members", err)
		return
	}
	mv := membersView{Pager: pr, Roles: c.roleOptions(authz.RoleMember), Licenses: p.d.Subscriptions != nil && p.d.Orders != nil && p.d.Plans != nil}
	for _, m := range pg.Items {
		mv.Members = append(mv.Members, MemberRow{Member: m, RoleName: c.T(roleNames[m.Role], nil), Roles: c.roleOptions(m.Role)})
	}
	v := c.orgView("web_org_members_title", mv)
	c.notice(r, &v)
	c.show(w, r, http.StatusOK, "org_members", v)
}

// formRole reads a role field.
func formRole(r *http.Request) (authz.Role, bool) {
	role := authz.Role(r.PostFormValue("role"))
	return role, role.Valid()
}

func (p *Pages) invite(w http.ResponseWriter, r *http.Request, c *call) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	role, ok := formRole(r)
	if email == "" || len(email) > maxEmail || !ok {
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "web_code_invalid_request", nil)
		return
	}
	if _, _, err := p.d.Organizations.Invite(r.Context(), c.principal(), c.org.ID, email, role, c.loc.Tag().String()); err != nil {
		c.fail(w, r, "invite", err)
		return
	}
	c.back(w, r, "/invitations", "invited")
}

func (p *Pages) changeRole(w http.ResponseWriter, r *http.Request, c *call) {
	role, ok := formRole(r)
	if !ok {
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "web_code_invalid_request", nil)
		return
	}
	if _, err := p.d.Organizations.ChangeMember(r.Context(), c.principal(), c.org.ID, r.PathValue("account"), organizations.MemberChange{Role: &role}); err != nil {
		c.fail(w, r, "change role", err)
		return
	}
	c.back(w, r, "/members", "role")
}

func (p *Pages) removeConfirm(w http.ResponseWriter, r *http.Request, c *call) {
	m, err := p.d.Organizations.Member(r.Context(), c.org.ID, r.PathValue("account"))
	if err != nil {
		c.fail(w, r, "get member", err)
		return
	}
	base := "/orgs/" + c.org.ID
	c.show(w, r, http.StatusOK, "confirm", c.orgConfirm("web_org_remove_title", Confirm{
		Consequence: c.T("web_org_remove_consequence", i18n.Args{"email": m.Email, "org": c.org.Name}),
		Button:      c.T("web_org_remove_button", nil),
		Action:      base + "/members/" + m.AccountID + "/remove", Cancel: base + "/members",
	}))
}

// orgConfirm is a confirmation page inside an organization.
func (c *call) orgConfirm(title string, cf Confirm) View {
	v := c.view("", cf)
	v.Title = c.T(title, i18n.Args{"org": c.org.Name})
	return v
}

func (p *Pages) removeMember(w http.ResponseWriter, r *http.Request, c *call) {
	if _, err := p.d.Organizations.RemoveMember(r.Context(), c.principal(), c.org.ID, r.PathValue("account")); err != nil {
		c.fail(w, r, "remove member", err)
		return
	}
	c.back(w, r, "/members", "removed")
}

// InvitationRow is an invitation as the invitations page shows it.
type InvitationRow struct {
	organizations.Invitation
	RoleName, StateName string
	Pending             bool
}

type invitationsView struct {
	Invitations []InvitationRow
	Pager       Pager
	Roles       []Option
}

var stateNames = map[string]string{"pending": "web_invitation_pending", "accepted": "web_invitation_accepted",
	"revoked": "web_invitation_revoked", "expired": "web_invitation_expired"}

func (p *Pages) invitationsPage(w http.ResponseWriter, r *http.Request, c *call) {
	pg, pr, err := listPage(r, pageSize, "web_total_invitations", func(req paging.Request) (paging.Page[organizations.Invitation], error) {
		return p.d.Organizations.Invitations(r.Context(), c.org.ID, req)
	})
	if err != nil {
		c.fail(w, r, "list invitations", err)
		return
	}
	now := p.now()
	iv := invitationsView{Pager: pr, Roles: c.roleOptions(authz.RoleMember)}
	for _, in := range pg.Items {
		st := in.State(now)
		iv.Invitations = append(iv.Invitations, InvitationRow{Invitation: in, RoleName: c.T(roleNames[in.Role], nil),
			StateName: c.T(stateNames[st], nil), Pending: st == "pending"})
	}
	v := c.orgView("web_org_invitations_title", iv)
	c.notice(r, &v)
	c.show(w, r, http.StatusOK, "org_invitations", v)
}

func (p *Pages) revokeConfirm(w http.ResponseWriter, r *http.Request, c *call) {
	id := r.PathValue("id")
	base := "/orgs/" + c.org.ID
	c.show(w, r, http.StatusOK, "confirm", c.orgConfirm("web_org_revoke_title", Confirm{
		Consequence: c.T("web_org_revoke_consequence", nil), Button: c.T("web_org_revoke_button", nil),
		Action: base + "/invitations/" + id + "/revoke", Cancel: base + "/invitations",
	}))
}

func (p *Pages) revokeInvitation(w http.ResponseWriter, r *http.Request, c *call) {
	if err := p.d.Organizations.RevokeInvitation(r.Context(), c.principal(), c.org.ID, r.PathValue("id")); err != nil {
		c.fail(w, r, "revoke invitation", err)
		return
	}
	c.back(w, r, "/invitations", "revoked")
}
