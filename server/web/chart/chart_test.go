package chart_test

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/server/web/chart"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var bundle = i18n.New()

func loc(tag string) *i18n.Localizer {
	if tag == "fr" {
		return bundle.Localizer(i18n.French)
	}
	return bundle.Localizer(i18n.English)
}

var d0 = time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)

// month is 30 days of a pool growing from 1,000 to 1,500 seats, assignments
// following it.
func month() []chart.Point {
	var pts []chart.Point
	for i := range 30 {
		seats := 1000
		if i >= 20 {
			seats = 1500
		}
		pts = append(pts, chart.Point{Day: d0.AddDate(0, 0, i), Seats: seats, Assigned: 700 + 12*i})
	}
	return pts
}

var cases = []struct {
	name   string
	points []chart.Point
	opts   chart.Options
}{
	{"month", month(), chart.Options{}},
	{"single", []chart.Point{{Day: d0, Seats: 5, Assigned: 2}}, chart.Options{ID: "one"}},
	{"empty", nil, chart.Options{Width: 320, Height: 160}},
	{"huge", []chart.Point{{Day: d0, Seats: 1<<63 - 1, Assigned: 1 << 62}, {Day: d0.AddDate(1, 0, 0), Seats: 1<<63 - 1, Assigned: 1<<63 - 1}}, chart.Options{}},
}

// TestGolden: the drawings as reviewed, byte for byte, in both languages.
// go test ./server/web/chart -run Golden -update rewrites them.
func TestGolden(t *testing.T) {
	for _, tc := range cases {
		for _, lang := range []string{"en", "fr"} {
			t.Run(tc.name+"_"+lang, func(t *testing.T) {
				got := []byte(chart.SeatUse(loc(lang), tc.points, tc.opts))
				path := filepath.Join("testdata", tc.name+"."+lang+".svg")
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from the drawing:\n%s", path, got)
				}
				if again := []byte(chart.SeatUse(loc(lang), tc.points, tc.opts)); !bytes.Equal(again, got) {
					t.Error("two drawings of the same series differ")
				}
			})
		}
	}
}

// TestLocalizedLabels: numbers and dates on the axes and in the summary
// are the language's.
func TestLocalizedLabels(t *testing.T) {
	pts := []chart.Point{{Day: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), Seats: 1234, Assigned: 1000},
		{Day: time.Date(2026, 12, 12, 0, 0, 0, 0, time.UTC), Seats: 1234, Assigned: 1200}}
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"en", []string{">Dec 2<", ">1,000<", "From December 2, 2026 to December 12, 2026.", "Last day: 1,200 of 1,234.", ">Seats<", ">Assigned<", "Seat use over time"}},
		{"fr", []string{">2 déc.<", ">1\u202f000<", "Du 2 décembre 2026 au 12 décembre 2026.", "Dernier jour\u00a0: 1\u202f200 sur 1\u202f234.", ">Sièges<", ">Attribués<", "Utilisation des sièges"}},
	} {
		svg := string(chart.SeatUse(loc(tc.lang), pts, chart.Options{}))
		for _, w := range tc.want {
			if !strings.Contains(svg, w) {
				t.Errorf("%s: no %q in\n%s", tc.lang, w, svg)
			}
		}
	}
}

// element is a parsed SVG element.
type element struct {
	name  string
	attrs map[string]string
	text  string
	group string // class of the nearest enclosing <g>
}

// parse reads svg with encoding/xml, failing on any malformed byte.
func parse(t testing.TB, svg string) []element {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	dec.Strict = true
	var out []element
	var stack []int
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, svg)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			e := element{name: x.Name.Local, attrs: map[string]string{}}
			for _, a := range x.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			for i := len(stack) - 1; i >= 0; i-- {
				if out[stack[i]].name == "g" {
					e.group = out[stack[i]].attrs["class"]
					break
				}
			}
			if x.Name.Space != "http://www.w3.org/2000/svg" {
				t.Errorf("<%s> in namespace %q", x.Name.Local, x.Name.Space)
			}
			out = append(out, e)
			stack = append(stack, len(out)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				out[stack[len(stack)-1]].text += string(x)
			}
		case xml.ProcInst, xml.Directive:
			t.Errorf("unexpected %T in the SVG", x)
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed elements")
	}
	return out
}

// checkSVG holds a drawing to the rules: well-formed, one <svg> root that
// is an image labelled by its title and description, no script, no event
// handler, no style attribute, no external reference.
func checkSVG(t testing.TB, svg string) []element {
	t.Helper()
	els := parse(t, svg)
	if len(els) < 3 || els[0].name != "svg" || els[1].name != "title" || els[2].name != "desc" {
		t.Fatalf("the drawing does not start with <svg><title><desc>:\n%s", svg)
	}
	root := els[0]
	if root.attrs["role"] != "img" {
		t.Errorf("role %q", root.attrs["role"])
	}
	if want := els[1].attrs["id"] + " " + els[2].attrs["id"]; root.attrs["aria-labelledby"] != want || els[1].attrs["id"] == "" {
		t.Errorf("aria-labelledby %q, want %q", root.attrs["aria-labelledby"], want)
	}
	if strings.TrimSpace(els[1].text) == "" || strings.TrimSpace(els[2].text) == "" {
		t.Errorf("empty title or description: %q, %q", els[1].text, els[2].text)
	}
	for _, e := range els {
		switch e.name {
		case "script", "foreignObject", "style", "image", "use", "a":
			t.Errorf("<%s> in the drawing", e.name)
		}
		for k, v := range e.attrs {
			if strings.HasPrefix(k, "on") || k == "style" || k == "href" || strings.Contains(v, "url(") || strings.Contains(v, "://") && k != "xmlns" {
				t.Errorf("<%s %s=%q>", e.name, k, v)
			}
		}
	}
	return els
}

func TestSVGIsWellFormedAndAccessible(t *testing.T) {
	for _, tc := range cases {
		for _, lang := range []string{"en", "fr"} {
			t.Run(tc.name+"_"+lang, func(t *testing.T) {
				els := checkSVG(t, string(chart.SeatUse(loc(lang), tc.points, tc.opts)))
				var paths, texts int
				for _, e := range els {
					switch e.name {
					case "path":
						paths++
					case "text":
						texts++
					}
				}
				if want := 3; len(tc.points) > 0 && paths != want || len(tc.points) == 0 && paths != 0 {
					t.Errorf("%d paths", paths)
				}
				if texts < 1 || len(tc.points) > 0 && texts < 3 {
					t.Errorf("%d texts: no labels?", texts)
				}
			})
		}
	}
}

// TestOptions: a bad id or size takes the default or the bound, and ids
// never carry markup.
func TestOptions(t *testing.T) {
	pts := month()
	for _, tc := range []struct {
		opts       chart.Options
		id, width  string
		viewHeight string
	}{
		{chart.Options{ID: `x" onload="alert(1)`}, chart.DefaultID, "640", "240"},
		{chart.Options{ID: "seats-2", Width: 10, Height: 99999}, "seats-2", "200", "2000"},
		{chart.Options{ID: "9lives", Width: 5000}, chart.DefaultID, "4000", "240"},
	} {
		els := checkSVG(t, string(chart.SeatUse(loc("en"), pts, tc.opts)))
		root := els[0]
		if els[1].attrs["id"] != tc.id+"-title" || root.attrs["width"] != tc.width || root.attrs["height"] != tc.viewHeight {
			t.Errorf("%+v: id %q, %sx%s", tc.opts, els[1].attrs["id"], root.attrs["width"], root.attrs["height"])
		}
	}
}

// TestUnorderedAndNegative: points in any order are drawn by day; negative
// values count as zero.
func TestUnorderedAndNegative(t *testing.T) {
	a := []chart.Point{{Day: d0, Seats: 3, Assigned: 1}, {Day: d0.AddDate(0, 0, 2), Seats: 4, Assigned: 2}, {Day: d0.AddDate(0, 0, 1), Seats: -5, Assigned: -1}}
	b := []chart.Point{a[0], {Day: d0.AddDate(0, 0, 1)}, a[1]}
	if got, want := chart.SeatUse(loc("en"), a, chart.Options{}), chart.SeatUse(loc("en"), b, chart.Options{}); got != want {
		t.Errorf("unordered:\n%s\nsorted:\n%s", got, want)
	}
}

func FuzzSeatUse(f *testing.F) {
	f.Add([]byte{}, int64(0), uint8(0))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, int64(1_800_000_000), uint8(1))
	f.Add(bytes.Repeat([]byte{0xff}, 64), int64(-1<<62), uint8(2))
	f.Add(bytes.Repeat([]byte{0x7f, 0, 0x80, 1}, 50), int64(1<<62), uint8(3))
	l := []*i18n.Localizer{loc("en"), loc("fr")}
	f.Fuzz(func(t *testing.T, data []byte, base int64, shape uint8) {
		// Each 6 bytes: a day offset (2 bytes) and two values (2 bytes each,
		// scaled by shape to reach huge and negative ones).
		var pts []chart.Point
		scale := []int{1, 1000, 1 << 40, 1 << 48}[shape%4]
		for len(data) >= 6 && len(pts) < 400 {
			off := int64(int16(uint16(data[0])<<8 | uint16(data[1])))
			s := int(int16(uint16(data[2])<<8|uint16(data[3]))) * scale
			a := int(int16(uint16(data[4])<<8|uint16(data[5]))) * scale
			if shape&4 != 0 {
				s, a = 1<<63-1-s, -1<<63+a
			}
			pts = append(pts, chart.Point{Day: time.Unix(base, 0).Add(time.Duration(off) * 24 * time.Hour), Seats: s, Assigned: a})
			data = data[6:]
		}
		svg := string(chart.SeatUse(l[shape>>7], pts, chart.Options{ID: fmt.Sprintf("f%d", shape)}))
		checkSVG(t, svg)
		if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
			t.Fatalf("NaN or Inf in\n%s", svg)
		}
	})
}

// TestXLabelsDoNotCrowd: whatever the width and the span, date labels stay
// apart, the first day is labelled, and there are at most six.
func TestXLabelsDoNotCrowd(t *testing.T) {
	for _, width := range []int{200, 320, 640, 1200} {
		for _, days := range []int{1, 2, 3, 7, 29, 30, 31, 90, 365, 731} {
			pts := []chart.Point{{Day: d0, Seats: 10, Assigned: 5}, {Day: d0.AddDate(0, 0, days), Seats: 10, Assigned: 7}}
			svg := string(chart.SeatUse(loc("fr"), pts, chart.Options{Width: width}))
			els := checkSVG(t, svg)
			var xs []float64
			for _, e := range els {
				if e.name == "text" && e.group == "x-axis" {
					var x float64
					fmt.Sscan(e.attrs["x"], &x)
					xs = append(xs, x)
				}
			}
			if years := strings.Count(svg, "<tspan"); d0.AddDate(0, 0, days).Year() != d0.Year() && years < 2 {
				t.Errorf("width %d, %d days: %d years named", width, days, years)
			}
			if len(xs) < 1 || len(xs) > 6 {
				t.Errorf("width %d, %d days: %d date labels", width, days, len(xs))
				continue
			}
			for i := 1; i < len(xs); i++ {
				if xs[i]-xs[i-1] < 70 {
					t.Errorf("width %d, %d days: labels at %v", width, days, xs)
					break
				}
			}
		}
	}
}

func TestTitleOption(t *testing.T) {
	els := checkSVG(t, string(chart.SeatUse(loc("en"), month(), chart.Options{Title: "Pro <plan>"})))
	if els[1].text != "Pro <plan>" {
		t.Errorf("title %q", els[1].text)
	}
	if els = checkSVG(t, string(chart.SeatUse(loc("en"), month(), chart.Options{Title: "  "}))); els[1].text != "Seat use over time" {
		t.Errorf("blank title: %q", els[1].text)
	}
}
