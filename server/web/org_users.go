package web

import (
	"net/http"

	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/organizations"
)

// The license of a member: the page the license icon at the end of each
// member's row opens (choose a purchased plan, save), and the release of
// an assigned license.

// AssignedRow is a license the organization assigned to the member.
type AssignedRow struct {
	licenses.License
}

type licenseView struct {
	Member   organizations.Member
	Assigned []AssignedRow
	Choices  []Option // subscriptions with a free seat the member does not hold
}

// memberLicenses bounds the member's licenses the page reads.
const memberLicenses = 100

func (p *Pages) licensePage(w http.ResponseWriter, r *http.Request, c *call) {
	m, err := p.d.Organizations.Member(r.Context(), c.org.ID, r.PathValue("account"))
	if err != nil {
		c.fail(w, r, "get member", err)
		return
	}
	lv := licenseView{Member: m}
	held := map[string]bool{}
	ls, err := p.d.Licenses.PageLicenses(r.Context(), m.AccountID, paging.Request{Limit: memberLicenses})
	if err != nil {
		c.fail(w, r, "member licenses", err)
		return
	}
	for _, l := range ls.Items {
		if l.OrganizationID == c.org.ID && l.SubscriptionID != "" && l.Revoked.IsZero() {
			lv.Assigned = append(lv.Assigned, AssignedRow{l})
			held[l.SubscriptionID] = true
		}
	}
	subs, err := p.d.Subscriptions.List(r.Context(), c.org.ID, paging.Request{Limit: catalogSize})
	if err != nil {
		c.fail(w, r, "list subscriptions", err)
		return
	}
	for _, s := range subs.Items {
		if free := s.Seats - s.Assigned; free > 0 && !held[s.ID] && s.Suspended.IsZero() {
			lv.Choices = append(lv.Choices, Option{Value: s.ID,
				Label: c.loc.Plural("purchases_choice", free, i18n.Args{"plan": s.PlanName, "end": c.loc.Date(s.TermEnd)})})
		}
	}
	v := c.orgView("purchases_license_title", lv)
	v.Title = c.T("purchases_license_title", i18n.Args{"email": m.Email})
	c.purchaseNotice(r, &v)
	c.show(w, r, http.StatusOK, "purchases_license", v)
}

func (p *Pages) assignLicense(w http.ResponseWriter, r *http.Request, c *call) {
	account := r.PathValue("account")
	sub := r.PostFormValue("subscription")
	if sub == "" || len(sub) > 64 {
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "purchases_choose_plan", nil)
		return
	}
	if _, _, err := p.d.Subscriptions.Assign(r.Context(), c.principal(), c.org.ID, sub, account); err != nil {
		c.fail(w, r, "assign", err)
		return
	}
	c.back(w, r, "/members/"+account+"/license", "assigned")
}

func (p *Pages) licenseReleaseConfirm(w http.ResponseWriter, r *http.Request, c *call) {
	m, err := p.d.Organizations.Member(r.Context(), c.org.ID, r.PathValue("account"))
	if err != nil {
		c.fail(w, r, "get member", err)
		return
	}
	s, err := p.d.Subscriptions.Get(r.Context(), c.org.ID, r.PathValue("sub"))
	if err != nil {
		c.fail(w, r, "get subscription", err)
		return
	}
	base := "/orgs/" + c.org.ID + "/members/" + m.AccountID + "/license"
	c.show(w, r, http.StatusOK, "confirm", c.orgConfirm("purchases_release_title", Confirm{
		Consequence: c.T("purchases_release_consequence", i18n.Args{"email": m.Email, "plan": s.PlanName}),
		Button:      c.T("purchases_release_button", nil),
		Action:      base + "/" + s.ID + "/release", Cancel: base,
	}))
}

func (p *Pages) licenseRelease(w http.ResponseWriter, r *http.Request, c *call) {
	account := r.PathValue("account")
	if err := p.d.Subscriptions.Unassign(r.Context(), c.principal(), c.org.ID, r.PathValue("sub"), account); err != nil {
		c.fail(w, r, "release", err)
		return
	}
	c.back(w, r, "/members/"+account+"/license", "released")
}
