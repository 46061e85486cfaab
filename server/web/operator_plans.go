package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/plans"
)

// OperatorPlanRow is a plan of the catalog as the operator sees it.
type OperatorPlanRow struct {
	plans.Plan
	Price string // in the page's language
	Input string // the price as the form writes it: 12.50
}

type operatorPlansView struct {
	Plans []OperatorPlanRow
	Pager Pager
}

func (c *call) operatorPlanRow(pl plans.Plan) OperatorPlanRow {
	return OperatorPlanRow{Plan: pl, Price: c.loc.Money(pl.SeatPriceCents, pl.Currency), Input: priceInput(pl.SeatPriceCents)}
}

func (p *Pages) operatorPlans(w http.ResponseWriter, r *http.Request, c *call) {
	pg, pr, err := listPage(r, pageSize, "operator_total_plans", func(req paging.Request) (paging.Page[plans.Plan], error) {
		return p.d.Plans.List(r.Context(), false, req)
	})
	if err != nil {
		c.fail(w, r, "list plans", err)
		return
	}
	pv := operatorPlansView{Pager: pr}
	for _, pl := range pg.Items {
		pv.Plans = append(pv.Plans, c.operatorPlanRow(pl))
	}
	v := c.view("operator_plans_title", pv)
	c.noticeOf(r, &v, operatorNotices)
	c.show(w, r, http.StatusOK, "operator_plans", v)
}

func (p *Pages) operatorPlan(w http.ResponseWriter, r *http.Request, c *call) {
	pl, err := p.d.Plans.Get(r.Context(), r.PathValue("plan"))
	if err != nil {
		c.fail(w, r, "get plan", err)
		return
	}
	v := c.view("", c.operatorPlanRow(pl))
	v.Title = c.T("operator_plan_title", map[string]any{"plan": pl.Name})
	c.noticeOf(r, &v, operatorNotices)
	c.show(w, r, http.StatusOK, "operator_plan", v)
}

// badPlan answers a plan form that does not read.
func (c *call) badPlan(w http.ResponseWriter, r *http.Request) {
	c.message(w, r, http.StatusBadRequest, "web_refused_title", "operator_plan_bad", nil)
}

func (p *Pages) operatorCreatePlan(w http.ResponseWriter, r *http.Request, c *call) {
	price, okPrice := parsePrice(r.PostFormValue("price"))
	term, okTerm := formInt(r, "term_months", 12)
	seat, okSeat := formInt(r, "devices_per_seat", 1)
	profiles, okProfiles := formInt(r, "max_profiles", 0)
	req := adminapi.CreatePlanRequest{Code: strings.TrimSpace(r.PostFormValue("code")), Name: strings.TrimSpace(r.PostFormValue("name")),
		TermMonths: term, DevicesPerSeat: seat, MaxProfiles: profiles, SeatPriceCents: price,
		Currency: strings.ToUpper(strings.TrimSpace(r.PostFormValue("currency")))}
	if !okPrice || !okTerm || !okSeat || !okProfiles || req.Validate() != nil {
		c.badPlan(w, r)
		return
	}
	pl, err := p.d.Plans.Create(r.Context(), c.operatorPrincipal().Actor(), req)
	if err != nil {
		c.fail(w, r, "create plan", err)
		return
	}
	http.Redirect(w, r, "/operator/plans/"+pl.ID+"?done=plan_created", http.StatusSeeOther)
}

func (p *Pages) operatorUpdatePlan(w http.ResponseWriter, r *http.Request, c *call) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	price, okPrice := parsePrice(r.PostFormValue("price"))
	active, okActive := formSwitch(r, "active")
	req := adminapi.UpdatePlanRequest{Name: &name, SeatPriceCents: &price, Active: &active}
	if !okPrice || !okActive || req.Validate() != nil {
		c.badPlan(w, r)
		return
	}
	pl, err := p.d.Plans.Update(r.Context(), c.operatorPrincipal().Actor(), r.PathValue("plan"), req)
	if err != nil {
		c.fail(w, r, "update plan", err)
		return
	}
	http.Redirect(w, r, "/operator/plans/"+pl.ID+"?done=plan_saved", http.StatusSeeOther)
}

// formInt reads a whole number, def when the field is empty.
func formInt(r *http.Request, name string, def int) (int, bool) {
	s := strings.TrimSpace(r.PostFormValue(name))
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// parsePrice reads a price in units with at most two decimals, with a point
// or a comma ("12", "12.5", "12,50") into cents.
func parsePrice(s string) (int64, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", ".")
	units, frac, _ := strings.Cut(s, ".")
	if units == "" || len(units) > 9 || len(frac) > 2 || strings.Trim(units+frac, "0123456789") != "" {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(units+frac, 10, 64)
	return n, err == nil
}

// priceInput writes cents as parsePrice reads them.
func priceInput(cents int64) string {
	return strconv.FormatInt(cents/100, 10) + "." + strconv.FormatInt(cents%100/10, 10) + strconv.FormatInt(cents%10, 10)
}
