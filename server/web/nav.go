package web

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/organizations"
)

// Organizations is the part of *organizations.Service the pages use.
type Organizations interface {
	ListFor(ctx context.Context, accountID string, req paging.Request) (paging.Page[organizations.Membership], error)
	Get(ctx context.Context, id string) (organizations.Organization, error)
	Update(ctx context.Context, p authz.Principal, orgID string, c organizations.Change) (organizations.Organization, error)
	Role(ctx context.Context, orgID, accountID string) (authz.Role, error)
	Members(ctx context.Context, orgID string, req paging.Request) (paging.Page[organizations.Member], error)
	Member(ctx context.Context, orgID, accountID string) (organizations.Member, error)
	ChangeMember(ctx context.Context, p authz.Principal, orgID, accountID string, c organizations.MemberChange) (organizations.Member, error)
	RemoveMember(ctx context.Context, p authz.Principal, orgID, accountID string) ([]string, error)
	Invite(ctx context.Context, p authz.Principal, orgID, email string, role authz.Role, locale string) (organizations.Invitation, string, error)
	Invitations(ctx context.Context, orgID string, req paging.Request) (paging.Page[organizations.Invitation], error)
	RevokeInvitation(ctx context.Context, p authz.Principal, orgID, id string) error
	Accept(ctx context.Context, token, password, sessionAccountID string) (organizations.Accepted, error)
	AddDomain(ctx context.Context, p authz.Principal, orgID, name string) (organizations.Domain, error)
	Domains(ctx context.Context, orgID string, req paging.Request) (paging.Page[organizations.Domain], error)
	VerifyDomain(ctx context.Context, p authz.Principal, orgID, name string) (organizations.Domain, error)
	AccountIDByEmail(ctx context.Context, email string) (string, error)
	IsOperator(ctx context.Context, accountID string) (bool, error)
}

// navItem is one link of a navigation section: a catalog label and the
// path (for organization pages, after /orgs/{org}).
type navItem struct{ label, path string }

// userNav are the person's own pages.
var userNav = []navItem{
	{"web_nav_licenses", "/account"},
	{"web_nav_computers", "/account/computers"},
	{"web_nav_activity", "/account/activity"},
	{"web_nav_password", "/account/password"},
}

// orgNav are an organization's pages for its admins, under /orgs/{org}.
var orgNav = []navItem{
	{"web_nav_overview", "/overview"},
	{"web_nav_org_computers", "/computers"},
	{"web_nav_members", "/members"},
	{"web_nav_invitations", "/invitations"},
	{"web_nav_domains", "/domains"},
	{"web_nav_workspaces", "/workspaces"},
	{"web_nav_journal", "/journal"},
	{"purchases_nav", "/purchases"},
	{"purchases_nav_orders", "/orders"},
}

// ownerNav are an organization's pages for its owners only.
var ownerNav = []navItem{
	{"purchases_nav_settings", "/settings"},
}

// navOrgs is how many organizations the navigation lists.
const navOrgs = 20

// nav builds the navigation of a signed-in page: the person's pages, then
// one section per organization they administer.
func (p *Pages) nav(c *call) []NavSection {
	section := func(heading string, prefix string, items []navItem) NavSection {
		s := NavSection{Heading: heading}
		for _, it := range items {
			href := prefix + it.path
			current := c.path == href || prefix != "" && strings.HasPrefix(c.path, href+"/")
			s.Items = append(s.Items, NavItem{Label: c.T(it.label, nil), Href: href, Current: current})
		}
		return s
	}
	out := []NavSection{section(c.T("web_nav_mine", nil), "", userNav)}
	if p.d.Organizations == nil {
		return out
	}
	if p.operatorPages() && c.isOperator() {
		out = append(out, section(c.T("operator_nav", nil), "", operatorNav))
	}
	ms, err := p.d.Organizations.ListFor(c.ctx, c.acct.ID, paging.Request{Limit: navOrgs})
	if err != nil {
		p.logger.Error("navigation: list organizations", "error", err)
		return out
	}
	for _, m := range ms.Items {
		switch {
		case m.Role.AtLeast(authz.RoleOwner):
			out = append(out, section(m.Name, "/orgs/"+m.ID, append(slices.Clip(orgNav), ownerNav...)))
		case m.Role.AtLeast(authz.RoleAdmin):
			out = append(out, section(m.Name, "/orgs/"+m.ID, orgNav))
		}
	}
	return out
}

// orgView is the organization of an org page and the caller's role in it.
type orgView struct {
	ID, Name string
	Role     authz.Role
}

// orgGate admits the caller to an organization's page with the API's rules:
// 404 for a non-member (the organization's existence is not revealed), 403
// for a role below the route's.
func (p *Pages) orgGate(w http.ResponseWriter, r *http.Request, c *call, need authz.Access) bool {
	id := r.PathValue("org")
	role := authz.RoleNone
	if p.d.Organizations != nil && id != "" && len(id) <= 64 {
		var err error
		if role, err = p.d.Organizations.Role(r.Context(), id, c.acct.ID); err != nil {
			c.fail(w, r, "organization role", err)
			return false
		}
	}
	pr := authz.Principal{AccountID: c.acct.ID}
	if role != authz.RoleNone {
		pr.OrgID, pr.Role = id, role
	}
	switch authz.Decide(need, pr, false) {
	case authz.Allow:
	case authz.Forbidden:
		c.message(w, r, http.StatusForbidden, "web_refused_title", "org_err_forbidden", nil)
		return false
	default:
		c.message(w, r, http.StatusNotFound, "web_not_found_title", "web_code_not_found", nil)
		return false
	}
	o, err := p.d.Organizations.Get(r.Context(), id)
	if err != nil {
		c.fail(w, r, "get organization", err)
		return false
	}
	c.org = &orgView{ID: o.ID, Name: o.Name, Role: role}
	return true
}
