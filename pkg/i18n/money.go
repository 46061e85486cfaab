package i18n

import (
	"strconv"
	"strings"
)

// Money formats an amount given in cents (hundredths of the currency's
// unit) with the locale's digit grouping and decimal mark, followed by the
// ISO 4217 code: "1,234.50 EUR", "1 234,50 EUR". Amounts stay integers end
// to end; no float touches them.
func (l *Localizer) Money(cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	units := l.Number(int(cents / 100))
	frac := strconv.FormatInt(cents%100+100, 10)[1:]
	mark := "."
	if l.tag == French {
		mark = ","
	}
	var b strings.Builder
	b.WriteString(sign + units + mark + frac)
	if currency != "" {
		if l.tag == French {
			b.WriteString("\u00a0")
		} else {
			b.WriteString(" ")
		}
		b.WriteString(currency)
	}
	return b.String()
}
