// Package chart draws the console's charts on the server, as SVG that works
// without JavaScript: seat use over time for the overview page.
//
// The drawing is accessible (role="img", a <title> and a <desc> that tells
// the data in words, for screen readers), localized (axis labels and text
// from pkg/i18n: "1 234", "2 déc."), self-contained (no script, no style
// attribute that a strict Content-Security-Policy would block, no external
// font: the system's sans-serif) and deterministic: the same series in the
// same language gives the same bytes.
package chart

import (
	"html/template"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/i18n"
)

// Point is one day of seat use.
type Point struct {
	Day      time.Time // the day (its calendar date in its location is shown)
	Seats    int       // seats owned
	Assigned int       // seats assigned
}

// Options size and name a chart. Zero fields take the defaults.
type Options struct {
	// ID prefixes the ids of the chart's title and description, which must
	// be unique in the page: letters, digits, '-' and '_', starting with a
	// letter; default "seat-use".
	ID string
	// Title replaces the default title ("Seat use over time"), for a chart
	// of one plan: already in the page's language.
	Title string
	// Width and Height in CSS pixels (the SVG scales with its viewBox):
	// default 640 x 240, bounded to 200..4000 x 120..2000.
	Width, Height int
}

// Defaults of Options.
const (
	DefaultID     = "seat-use"
	DefaultWidth  = 640
	DefaultHeight = 240
)

var validID = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

func (o Options) normalized() Options {
	if !validID.MatchString(o.ID) {
		o.ID = DefaultID
	}
	if o.Width == 0 {
		o.Width = DefaultWidth
	}
	if o.Height == 0 {
		o.Height = DefaultHeight
	}
	o.Width = min(max(o.Width, 200), 4000)
	o.Height = min(max(o.Height, 120), 2000)
	return o
}

// Colors and sizes. Assigned is a filled area under a solid line, seats a
// dashed line: they differ by more than color.
const (
	colorText     = "#374151"
	colorGrid     = "#d1d5db"
	colorAssigned = "#1d4ed8"
	colorSeats    = "#374151"
	fontSize      = 12
	charWidth     = 7 // an estimate of a label character's width at fontSize
	marginTop     = 28
	marginRight   = 32
	marginBottom  = 28
	maxXTicks     = 6
)

// SeatUse draws seats and assigned seats over time, in loc's language. The
// points may come in any order; negative values count as zero; an empty
// series draws an empty frame that says so.
func SeatUse(loc *i18n.Localizer, points []Point, o Options) template.HTML {
	o = o.normalized()
	pts := clean(points)
	var b strings.Builder
	title := o.Title
	if strings.TrimSpace(title) == "" {
		title = loc.T("chart_seat_title", nil)
	}
	desc := describe(loc, pts)
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-seat-use" role="img"`)
	attr(&b, "width", itoa(o.Width))
	attr(&b, "height", itoa(o.Height))
	attr(&b, "viewBox", "0 0 "+itoa(o.Width)+" "+itoa(o.Height))
	attr(&b, "aria-labelledby", o.ID+"-title "+o.ID+"-desc")
	attr(&b, "font-family", "system-ui, sans-serif")
	attr(&b, "font-size", itoa(fontSize))
	b.WriteString(">\n<title")
	attr(&b, "id", o.ID+"-title")
	b.WriteString(">" + esc(title) + "</title>\n<desc")
	attr(&b, "id", o.ID+"-desc")
	b.WriteString(">" + esc(desc) + "</desc>\n")

	if len(pts) == 0 {
		empty(&b, loc, o)
		return template.HTML(b.String())
	}
	top, yTicks := yScale(pts)
	yLabels := make([]string, len(yTicks))
	widest := 0
	for i, v := range yTicks {
		yLabels[i] = loc.Number(int(v))
		widest = max(widest, len([]rune(yLabels[i])))
	}
	p := plot{left: float64(12 + charWidth*widest), top: marginTop,
		right: float64(o.Width - marginRight), bottom: float64(o.Height - marginBottom - yearLine(pts)), yMax: top,
		t0: unix(pts[0].Day), t1: unix(pts[len(pts)-1].Day)}
	if p.left > p.right-40 {
		p.left = p.right - 40
	}

	legend(&b, loc, p.left)
	b.WriteString(`<g class="grid" stroke="` + colorGrid + `" stroke-width="1">` + "\n")
	for _, v := range yTicks {
		y := num(p.y(v))
		b.WriteString(`<line x1="` + num(p.left) + `" y1="` + y + `" x2="` + num(p.right) + `" y2="` + y + `"/>` + "\n")
	}
	b.WriteString("</g>\n")
	b.WriteString(`<g class="y-axis" fill="` + colorText + `" text-anchor="end">` + "\n")
	for i, v := range yTicks {
		b.WriteString(`<text x="` + num(p.left-6) + `" y="` + num(p.y(v)+4) + `">` + esc(yLabels[i]) + "</text>\n")
	}
	b.WriteString("</g>\n")

	b.WriteString(`<g class="x-axis" fill="` + colorText + `" text-anchor="middle">` + "\n")
	zone, years := pts[0].Day.Location(), yearLine(pts) > 0
	prevYear := 0
	for _, t := range p.xTicks() {
		day := fromUnix(t, zone)
		b.WriteString(`<text x="` + num(p.x(t)) + `" y="` + num(p.bottom+18) + `">` + esc(loc.ShortDate(day)))
		if years && day.Year() != prevYear {
			// Over several years, a label that starts a year says which.
			b.WriteString(`<tspan x="` + num(p.x(t)) + `" dy="14">` + strconv.Itoa(day.Year()) + "</tspan>")
		}
		prevYear = day.Year()
		b.WriteString("</text>\n")
	}
	b.WriteString("</g>\n")

	assigned, seats := p.line(pts, func(pt Point) int { return pt.Assigned }), p.line(pts, func(pt Point) int { return pt.Seats })
	area := assigned + " L" + num(p.x(p.t1)) + "," + num(p.bottom) + " L" + num(p.x(p.t0)) + "," + num(p.bottom) + " Z"
	b.WriteString(`<path class="assigned-area" fill="` + colorAssigned + `" fill-opacity="0.15" stroke="none" d="` + area + `"/>` + "\n")
	b.WriteString(`<path class="assigned" fill="none" stroke="` + colorAssigned + `" stroke-width="2" stroke-linejoin="round" d="` + assigned + `"/>` + "\n")
	b.WriteString(`<path class="seats" fill="none" stroke="` + colorSeats + `" stroke-width="2" stroke-dasharray="6 4" d="` + seats + `"/>` + "\n")
	if len(pts) == 1 {
		// A lone day has no line to draw: mark it.
		x := num(p.x(p.t0))
		b.WriteString(`<circle class="seats" cx="` + x + `" cy="` + num(p.y(float64(pts[0].Seats))) + `" r="4" fill="` + colorSeats + `"/>` + "\n")
		b.WriteString(`<circle class="assigned" cx="` + x + `" cy="` + num(p.y(float64(pts[0].Assigned))) + `" r="4" fill="` + colorAssigned + `"/>` + "\n")
	}
	b.WriteString("</svg>\n")
	return template.HTML(b.String())
}

// empty draws the frame of a chart without data: a baseline and the
// message, wrapped to the width.
func empty(b *strings.Builder, loc *i18n.Localizer, o Options) {
	left, right, bottom := 12.0, float64(o.Width-12), float64(o.Height-marginBottom)
	b.WriteString(`<line class="baseline" x1="` + num(left) + `" y1="` + num(bottom) + `" x2="` + num(right) + `" y2="` + num(bottom) +
		`" stroke="` + colorGrid + `" stroke-width="1"/>` + "\n")
	lines := wrap(loc.T("chart_seat_empty", nil), int(right-left)/charWidth)
	y := (float64(marginTop)+bottom)/2 - float64(len(lines)-1)*8
	b.WriteString(`<text class="empty" fill="` + colorText + `" text-anchor="middle">`)
	for i, l := range lines {
		b.WriteString(`<tspan x="` + num(float64(o.Width)/2) + `" y="` + num(y+float64(i)*16) + `">` + esc(l) + "</tspan>")
	}
	b.WriteString("</text>\n</svg>\n")
}

// wrap splits text at spaces into lines of about width characters.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len([]rune(line))+1+len([]rune(w)) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// yearLine is the height of the second line of date labels, naming the
// years when the series spans more than one; 0 otherwise.
func yearLine(pts []Point) int {
	if len(pts) > 1 && pts[0].Day.Year() != pts[len(pts)-1].Day.In(pts[0].Day.Location()).Year() {
		return 14
	}
	return 0
}

// clean returns the points by day, negative values as zero.
func clean(points []Point) []Point {
	pts := slices.Clone(points)
	for i := range pts {
		pts[i].Seats, pts[i].Assigned = max(pts[i].Seats, 0), max(pts[i].Assigned, 0)
	}
	slices.SortStableFunc(pts, func(a, b Point) int { return a.Day.Compare(b.Day) })
	return pts
}

// describe tells the series in words: its days, the first and last day's
// use, the peak.
func describe(loc *i18n.Localizer, pts []Point) string {
	switch len(pts) {
	case 0:
		return loc.T("chart_seat_empty", nil)
	case 1:
		return loc.T("chart_seat_desc_day", i18n.Args{"day": loc.Date(pts[0].Day),
			"assigned": loc.Number(pts[0].Assigned), "seats": loc.Number(pts[0].Seats)})
	}
	first, last := pts[0], pts[len(pts)-1]
	peak := 0
	for _, p := range pts {
		peak = max(peak, p.Assigned)
	}
	return loc.T("chart_seat_desc", i18n.Args{"from": loc.Date(first.Day), "to": loc.Date(last.Day),
		"first": loc.Number(first.Assigned), "firstSeats": loc.Number(first.Seats),
		"assigned": loc.Number(last.Assigned), "seats": loc.Number(last.Seats), "peak": loc.Number(peak)})
}

// twoTo63 is the first float64 past the int range.
var twoTo63 = math.Exp2(63)

// yScale returns the top of the value axis and its ticks: round steps of 1,
// 2 or 5 times a power of ten, at least 1, about four of them.
func yScale(pts []Point) (top float64, ticks []float64) {
	hi := 0
	for _, p := range pts {
		hi = max(hi, p.Seats, p.Assigned)
	}
	if hi == 0 {
		return 1, []float64{0, 1}
	}
	maxV := float64(hi)
	raw := maxV / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	step = max(step, 1)
	top = math.Ceil(maxV/step) * step
	if top >= twoTo63 {
		top = maxV // the round top would not be a number to show
	}
	for i := 0; i <= 12; i++ {
		v := float64(i) * step
		if v > top || v >= twoTo63 {
			break
		}
		ticks = append(ticks, v)
	}
	return top, ticks
}

// plot maps days (Unix seconds) and values to the drawing.
type plot struct {
	left, top, right, bottom float64
	t0, t1                   float64 // first and last day, Unix seconds
	yMax                     float64
}

func (p plot) x(t float64) float64 {
	if p.t1 <= p.t0 {
		return (p.left + p.right) / 2
	}
	return p.left + (t-p.t0)/(p.t1-p.t0)*(p.right-p.left)
}

func (p plot) y(v float64) float64 {
	return p.bottom - min(v/p.yMax, 1)*(p.bottom-p.top)
}

// xTicks spaces date labels by whole days from the first day, as many as
// fit (80 px each, at most maxXTicks), and labels the last day too when it
// is far enough from the previous label.
func (p plot) xTicks() []float64 {
	span := p.t1 - p.t0
	if span < 86400 {
		return []float64{p.t0}
	}
	const labelWidth = 80
	n := min(max(int((p.right-p.left)/labelWidth), 2), maxXTicks)
	step := math.Ceil(span/86400/float64(n-1)) * 86400
	var out []float64
	for i := range n {
		t := p.t0 + float64(i)*step
		if t > p.t1 {
			break
		}
		out = append(out, t)
	}
	if last := out[len(out)-1]; last < p.t1 && p.x(p.t1)-p.x(last) >= labelWidth {
		out = append(out, p.t1)
	}
	return out
}

// line is the path through the points' values.
func (p plot) line(pts []Point, v func(Point) int) string {
	var b strings.Builder
	for i, pt := range pts {
		if i == 0 {
			b.WriteString("M")
		} else {
			b.WriteString(" L")
		}
		b.WriteString(num(p.x(unix(pt.Day))) + "," + num(p.y(float64(v(pt)))))
	}
	return b.String()
}

// legend names the two series above the plot, each with a sample of its
// stroke.
func legend(b *strings.Builder, loc *i18n.Localizer, x float64) {
	b.WriteString(`<g class="legend" fill="` + colorText + `">` + "\n")
	for _, s := range []struct{ label, color, dash string }{
		{loc.T("chart_assigned", nil), colorAssigned, ""},
		{loc.T("chart_seats", nil), colorSeats, ` stroke-dasharray="6 4"`},
	} {
		b.WriteString(`<line x1="` + num(x) + `" y1="10" x2="` + num(x+24) + `" y2="10" stroke="` + s.color + `" stroke-width="2"` + s.dash + `/>` + "\n")
		b.WriteString(`<text x="` + num(x+30) + `" y="14">` + esc(s.label) + "</text>\n")
		x += 30 + float64(charWidth*len([]rune(s.label))) + 20
	}
	b.WriteString("</g>\n")
}

func unix(t time.Time) float64 { return float64(t.Unix()) }

func fromUnix(t float64, loc *time.Location) time.Time {
	if t >= twoTo63 || t < -twoTo63 || math.IsNaN(t) {
		return time.Time{}
	}
	return time.Unix(int64(t), 0).In(loc)
}

// num formats a coordinate with one decimal at most: the same bytes for the
// same drawing.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func itoa(n int) string { return strconv.Itoa(n) }

func attr(b *strings.Builder, name, value string) {
	b.WriteString(" " + name + `="` + esc(value) + `"`)
}

// esc escapes text and attribute values for XML and HTML alike.
func esc(s string) string { return template.HTMLEscapeString(s) }
