package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/organizations"
	"github.com/entitle/entitle/server/workspaces"
)

// DomainRow is a domain as the domains page shows it: pending ones with the
// TXT record to publish.
type DomainRow struct {
	organizations.Domain
	Record   string // the record's name
	Verified bool
}

type domainsView struct {
	Domains []DomainRow
	Pager   Pager
}

func (p *Pages) domainsPage(w http.ResponseWriter, r *http.Request, c *call) {
	pg, pr, err := listPage(r, pageSize, "web_total_domains", func(req paging.Request) (paging.Page[organizations.Domain], error) {
		return p.d.Organizations.Domains(r.Context(), c.org.ID, req)
	})
	if err != nil {
		c.fail(w, r, "list domains", err)
		return
	}
	dv := domainsView{Pager: pr}
	for _, d := range pg.Items {
		dv.Domains = append(dv.Domains, DomainRow{Domain: d, Record: d.RecordName(), Verified: d.Status == organizations.DomainVerified})
	}
	v := c.orgView("web_org_domains_title", dv)
	c.notice(r, &v)
	c.show(w, r, http.StatusOK, "org_domains", v)
}

func (p *Pages) addDomain(w http.ResponseWriter, r *http.Request, c *call) {
	name := strings.TrimSpace(r.PostFormValue("domain"))
	if name == "" || len(name) > 253 {
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "web_code_invalid_request", nil)
		return
	}
	if _, err := p.d.Organizations.AddDomain(r.Context(), c.principal(), c.org.ID, name); err != nil {
		c.fail(w, r, "add domain", err)
		return
	}
	c.back(w, r, "/domains", "domain")
}

func (p *Pages) verifyDomain(w http.ResponseWriter, r *http.Request, c *call) {
	if _, err := p.d.Organizations.VerifyDomain(r.Context(), c.principal(), c.org.ID, r.PathValue("domain")); err != nil {
		c.fail(w, r, "verify domain", err)
		return
	}
	c.back(w, r, "/domains", "verified")
}

// Workspaces is the part of *workspaces.Service the pages use.
type Workspaces interface {
	List(ctx context.Context, owner workspaces.Owner, req paging.Request) (paging.Page[workspaces.Workspace], error)
	Create(ctx context.Context, owner workspaces.Owner, req accountapi.WorkspaceRequest) (workspaces.Workspace, error)
	Get(ctx context.Context, owner workspaces.Owner, id string) (workspaces.Workspace, error)
	Delete(ctx context.Context, owner workspaces.Owner, id string) error
	Suggest(ctx context.Context, owner workspaces.Owner, base string) (string, error)
}

func (c *call) owner() workspaces.Owner {
	return workspaces.Owner{AccountID: c.acct.ID, OrganizationID: c.org.ID}
}

// modes are the management modes a workspace may have, with their words.
var modes = []struct{ value, label string }{
	{licenses.ManagedLocalRemote, "web_mode_local_remote"},
	{licenses.ManagedLocal, "web_mode_local"},
	{licenses.ManagedRemote, "web_mode_remote"},
}

// WorkspaceRow is a workspace as the workspaces page shows it.
type WorkspaceRow struct {
	workspaces.Workspace
	ModeName string
}

type workspacesView struct {
	Workspaces []WorkspaceRow
	Pager      Pager
	Suggested  string   // the suggested name of a new workspace
	Licenses   []Option // the licenses a new workspace may hold
	Modes      []Option
}

func (c *call) modeName(mode string) string {
	for _, m := range modes {
		if m.value == mode {
			return c.T(m.label, nil)
		}
	}
	return mode
}

func (p *Pages) workspacesPage(w http.ResponseWriter, r *http.Request, c *call) {
	pg, pr, err := listPage(r, pageSize, "web_total_workspaces", func(req paging.Request) (paging.Page[workspaces.Workspace], error) {
		return p.d.Workspaces.List(r.Context(), c.owner(), req)
	})
	if err != nil {
		c.fail(w, r, "list workspaces", err)
		return
	}
	wv := workspacesView{Pager: pr}
	for _, ws := range pg.Items {
		wv.Workspaces = append(wv.Workspaces, WorkspaceRow{Workspace: ws, ModeName: c.modeName(ws.ManagementMode)})
	}
	// The licenses the admin may put in a workspace: their own.
	ls, err := p.d.Licenses.PageLicenses(r.Context(), c.acct.ID, paging.Request{Limit: paging.MaxLimit})
	if err != nil {
		c.fail(w, r, "list licenses", err)
		return
	}
	base := ""
	for _, l := range ls.Items {
		if base == "" {
			base = l.Plan.Name
		}
		wv.Licenses = append(wv.Licenses, Option{Value: l.ID, Label: l.Plan.Name + " · " + l.Key})
	}
	if wv.Suggested, err = p.d.Workspaces.Suggest(r.Context(), c.owner(), base); err != nil {
		c.fail(w, r, "suggest workspace name", err)
		return
	}
	for i, m := range modes {
		wv.Modes = append(wv.Modes, Option{Value: m.value, Label: c.T(m.label, nil), Selected: i == 0})
	}
	v := c.orgView("web_org_workspaces_title", wv)
	c.notice(r, &v)
	c.show(w, r, http.StatusOK, "org_workspaces", v)
}

func (p *Pages) createWorkspace(w http.ResponseWriter, r *http.Request, c *call) {
	req := accountapi.WorkspaceRequest{Name: strings.TrimSpace(r.PostFormValue("name")), LicenseID: r.PostFormValue("license"),
		ManagementMode: r.PostFormValue("mode")}
	if err := req.Validate(true); err != nil {
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "web_code_invalid_request", nil)
		return
	}
	if _, err := p.d.Workspaces.Create(r.Context(), c.owner(), req); err != nil {
		c.fail(w, r, "create workspace", err)
		return
	}
	c.back(w, r, "/workspaces", "workspace")
}

func (p *Pages) deleteWorkspaceConfirm(w http.ResponseWriter, r *http.Request, c *call) {
	ws, err := p.d.Workspaces.Get(r.Context(), c.owner(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, "get workspace", err)
		return
	}
	base := "/orgs/" + c.org.ID
	c.show(w, r, http.StatusOK, "confirm", c.orgConfirm("web_org_workspace_delete_title", Confirm{
		Consequence: c.T("web_org_workspace_delete_consequence", map[string]any{"name": ws.Name}),
		Button:      c.T("web_org_workspace_delete_button", nil),
		Action:      base + "/workspaces/" + url.PathEscape(ws.ID) + "/delete", Cancel: base + "/workspaces",
	}))
}

func (p *Pages) deleteWorkspace(w http.ResponseWriter, r *http.Request, c *call) {
	if err := p.d.Workspaces.Delete(r.Context(), c.owner(), r.PathValue("id")); err != nil {
		c.fail(w, r, "delete workspace", err)
		return
	}
	c.back(w, r, "/workspaces", "deleted")
}
