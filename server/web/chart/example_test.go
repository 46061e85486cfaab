package chart_test

import (
	"context"
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/server/usage"
	"github.com/entitle/entitle/server/web/chart"
)

// The overview page draws the last 90 days of an organization's seat use:
// the usage domain's daily totals become the chart's points.
func ExampleSeatUse() {
	var (
		use *usage.Service // app.App.Usage
		loc = i18n.New().Localizer(i18n.French)
		now = time.Now()
	)
	if use == nil {
		return // the example shows the calls; it has no database
	}
	snaps, err := use.History(context.Background(), "org_123", now.AddDate(0, 0, -89), now)
	if err != nil {
		return
	}
	var pts []chart.Point
	for _, d := range usage.Totals(snaps, "") {
		pts = append(pts, chart.Point{Day: d.Day, Seats: d.Seats, Assigned: d.Assigned})
	}
	svg := chart.SeatUse(loc, pts, chart.Options{ID: "overview-seats"})
	fmt.Println(len(svg) > 0)
}
