package i18n

import (
	"slices"
	"testing"
)

// FuzzMatch: any Accept-Language or locale value (outside input) gives a
// supported language, never a panic.
func FuzzMatch(f *testing.F) {
	b := New()
	for _, s := range []string{"", "fr", "fr-CH, fr;q=0.9, en;q=0.8", "*", "x;q=", "fr_FR.UTF-8@euro", "C", "\x00", "en-US-u-va-posix"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := b.Match(s); !slices.Contains(Languages(), got) {
			t.Fatalf("Match(%q) = %s", s, got)
		}
		if tag, ok := POSIXLocale(func(string) (string, bool) { return s, true }); ok {
			if got := b.Match(tag); !slices.Contains(Languages(), got) {
				t.Fatalf("POSIX %q: %s", s, got)
			}
		}
		if got := parseAppleLanguages(s); len(got) > 16 {
			t.Fatalf("%d languages from %q", len(got), s)
		}
	})
}
