package web

import (
	"html/template"
	"net/http"

	"github.com/entitle/entitle/server/usage"
	"github.com/entitle/entitle/server/web/chart"
)

// overviewDays is how far back the overview's seat chart goes.
const overviewDays = 30

type overviewView struct {
	usage.Overview
	Chart template.HTML
	// CertsWindowEnd: certificates and licenses listed end before it.
	Computers string // the computers page, for the counts' links
}

// overviewPage is an organization's landing page: seats used and free per
// plan, the seat use of the last 30 days (SVG drawn here), the computers
// online, offline and suspended, what expires within 30 days, and the
// orders waiting.
func (p *Pages) overviewPage(w http.ResponseWriter, r *http.Request, c *call) {
	now := p.now()
	ov, err := p.d.Usage.Overview(r.Context(), c.org.ID, now)
	if err != nil {
		c.fail(w, r, "overview", err)
		return
	}
	snaps, err := p.d.Usage.History(r.Context(), c.org.ID, now.AddDate(0, 0, -(overviewDays-1)), now)
	if err != nil {
		c.fail(w, r, "seat history", err)
		return
	}
	var pts []chart.Point
	for _, t := range usage.Totals(snaps, "") {
		pts = append(pts, chart.Point{Day: t.Day, Seats: t.Seats, Assigned: t.Assigned})
	}
	ovv := overviewView{Overview: ov, Chart: chart.SeatUse(c.loc, pts, chart.Options{}), Computers: "/orgs/" + c.org.ID + "/computers"}
	c.show(w, r, http.StatusOK, "org_overview", c.orgView("web_ov_title", ovv))
}
