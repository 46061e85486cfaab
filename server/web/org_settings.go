package web

import (
	"net/http"
	"strings"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/organizations"
	"github.com/entitle/entitle/server/workspaces"
)

// The organization's settings, for its owners: its name, its default
// language (of mails and invoices when the reader's is unknown), its
// billing contacts (who receives invoices), and the reclaim policy as it
// applies. Reclaiming idle computers is a setting of each workspace
// (reclaim_after_days), not of the organization: the page shows each
// workspace's and says so, rather than offer a setting that does nothing.

// languageNames are the languages an organization may default to, in
// their own words.
var languageNames = []struct{ tag, name string }{{"en", "English"}, {"fr", "Français"}}

// ReclaimRow is a workspace and its reclaim policy.
type ReclaimRow struct {
	Name string
	Days int
}

type settingsView struct {
	Name      string
	Languages []Option
	Members   []organizations.Member
	Pager     Pager
	Reclaim   []ReclaimRow
}

func (p *Pages) settingsPage(w http.ResponseWriter, r *http.Request, c *call) {
	o, err := p.d.Organizations.Get(r.Context(), c.org.ID)
	if err != nil {
		c.fail(w, r, "get organization", err)
		return
	}
	pg, pr, err := listPage(r, pageSize, "web_total_members", func(req paging.Request) (paging.Page[organizations.Member], error) {
		return p.d.Organizations.Members(r.Context(), c.org.ID, req)
	})
	if err != nil {
		c.fail(w, r, "list members", err)
		return
	}
	sv := settingsView{Name: o.Name, Members: pg.Items, Pager: pr}
	for _, l := range languageNames {
		sv.Languages = append(sv.Languages, Option{Value: l.tag, Label: l.name, Selected: strings.HasPrefix(o.DefaultLocale, l.tag)})
	}
	if p.d.Workspaces != nil {
		ws, err := p.d.Workspaces.List(r.Context(), workspaces.Owner{AccountID: c.acct.ID, OrganizationID: c.org.ID}, paging.Request{Limit: catalogSize})
		if err != nil {
			c.fail(w, r, "list workspaces", err)
			return
		}
		for _, wk := range ws.Items {
			sv.Reclaim = append(sv.Reclaim, ReclaimRow{Name: wk.Name, Days: wk.ReclaimAfterDays})
		}
	}
	v := c.orgView("purchases_settings_title", sv)
	c.purchaseNotice(r, &v)
	c.show(w, r, http.StatusOK, "purchases_settings", v)
}

func (p *Pages) saveSettings(w http.ResponseWriter, r *http.Request, c *call) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	lang := r.PostFormValue("language")
	known := false
	for _, l := range languageNames {
		known = known || l.tag == lang
	}
	if name == "" || !known {
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "web_code_invalid_request", nil)
		return
	}
	if _, err := p.d.Organizations.Update(r.Context(), c.principal(), c.org.ID, organizations.Change{Name: &name, DefaultLocale: &lang}); err != nil {
		c.fail(w, r, "save settings", err)
		return
	}
	c.back(w, r, "/settings", "settings")
}

func (p *Pages) setBilling(w http.ResponseWriter, r *http.Request, c *call) {
	on, ok := formSwitch(r, "billing")
	if !ok {
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "web_code_invalid_request", nil)
		return
	}
	if _, err := p.d.Organizations.ChangeMember(r.Context(), c.principal(), c.org.ID, r.PathValue("account"), organizations.MemberChange{Billing: &on}); err != nil {
		c.fail(w, r, "billing contact", err)
		return
	}
	c.back(w, r, "/settings", "billing")
}
