package devices

import (
	"strings"
	"testing"
)

// FuzzSplitCredential: whatever a client presents, splitting it does not
// panic, a named credential is its device id, a dot and a non-empty secret,
// with a device id of lower-case letters, digits and underscores, and a
// bare one has no dot.
func FuzzSplitCredential(f *testing.F) {
	for _, s := range []string{"dev_019ae3c1f2a4aa.secret", "bare-secret", "", ".", "a.", ".b", "a.b.c", "DEV_X.s", "dev_\xff.s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, named, ok := splitCredential(s)
		switch {
		case !ok:
			if id != "" {
				t.Fatalf("%q: refused but named %q", s, id)
			}
		case named:
			rest, cut := strings.CutPrefix(s, id+".")
			if !cut || rest == "" || !isSelector(id) {
				t.Fatalf("%q: named %q", s, id)
			}
		default:
			if strings.Contains(s, ".") || s == "" || id != "" {
				t.Fatalf("%q: taken as a bare secret", s)
			}
		}
	})
}
