package i18n

import "strings"

// parseAppleLanguages reads the property-list array `defaults read -g
// AppleLanguages` prints: ("fr-FR", "en-FR") over several lines.
func parseAppleLanguages(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune("(),\n\r\t \"", r) }) {
		if len(out) < 16 && len(f) <= 35 {
			out = append(out, f)
		}
	}
	return out
}
