package licensekey

import (
	"regexp"
	"strings"
)

// keyShape matches what could be a license key inside a text: five groups of
// five key symbols joined by hyphens (as Format writes it), or 25 symbols in a
// row (Normalize's form), in either case. Groups joined by spaces are not
// matched: five five-letter words in a row are ordinary prose.
var keyShape = regexp.MustCompile(`(?i)\b[0-9a-z]{5}(?:-[0-9a-z]{5}){4}\b|\b[0-9a-z]{25}\b`)

// Mask returns s with everything shaped like a license key replaced by a
// masked form that keeps only the last five symbols, "XXXXX-…-ABCDE": enough
// for a person to tell two keys apart, useless to activate with. Use it on any
// text that is logged or shown to someone other than the key's holder.
func Mask(s string) string {
	if len(s) < Len {
		return s
	}
	return keyShape.ReplaceAllStringFunc(s, func(k string) string {
		return "XXXXX-…-" + strings.ToUpper(k[len(k)-GroupLen:])
	})
}
