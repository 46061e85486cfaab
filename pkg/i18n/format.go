package i18n

import (
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/message"
)

// monthIDs are the catalog ids of the month names, January first.
var monthIDs = [12]string{
	"month_january", "month_february", "month_march", "month_april", "month_may", "month_june",
	"month_july", "month_august", "month_september", "month_october", "month_november", "month_december",
}

// shortMonthIDs are the catalog ids of the abbreviated month names.
var shortMonthIDs = [12]string{
	"month_short_january", "month_short_february", "month_short_march", "month_short_april", "month_short_may",
	"month_short_june", "month_short_july", "month_short_august", "month_short_september", "month_short_october",
	"month_short_november", "month_short_december",
}

// Number formats n with the locale's digit grouping: "1,234" in English,
// "1 234" in French (U+202F, the narrow no-break space CLDR gives French).
func (l *Localizer) Number(n int) string {
	s := message.NewPrinter(l.tag).Sprintf("%d", n)
	if l.tag == French {
		// x/text's CLDR data still groups French digits with U+00A0; French
		// typography (and CLDR since v34) uses the narrow U+202F.
		s = strings.ReplaceAll(s, "\u00a0", "\u202f")
	}
	return s
}

// Date formats the calendar date of t in t's location, the long way people
// write it: "December 2, 2026", "2 décembre 2026" ("1er décembre 2026" on the
// first). x/text has no date formatting, so the patterns and month names are
// catalog messages (date_long, date_long_first, month_*).
func (l *Localizer) Date(t time.Time) string {
	id := "date_long"
	if t.Day() == 1 {
		id = "date_long_first"
	}
	return l.T(id, Args{
		"day":   strconv.Itoa(t.Day()),
		"month": l.T(monthIDs[t.Month()-1], nil),
		"year":  strconv.Itoa(t.Year()),
	})
}

// ShortDate formats the day and abbreviated month of t in t's location, for
// chart axes and narrow columns: "Dec 2", "2 déc." (catalog messages
// date_short and month_short_*).
func (l *Localizer) ShortDate(t time.Time) string {
	return l.T("date_short", Args{
		"day":   strconv.Itoa(t.Day()),
		"month": l.T(shortMonthIDs[t.Month()-1], nil),
	})
}

// Time formats the time of day of t in t's location: "3:04 PM", "15:04"
// (the layout is the catalog message time_layout).
func (l *Localizer) Time(t time.Time) string {
	return t.Format(l.T("time_layout", nil))
}

// DateTime formats date and time of t in t's location: "December 2, 2026 at
// 3:04 PM", "2 décembre 2026 à 15:04".
func (l *Localizer) DateTime(t time.Time) string {
	return l.T("date_time", Args{"date": l.Date(t), "time": l.Time(t)})
}
