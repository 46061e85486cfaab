package licensekey

import (
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	key, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	norm, _ := Normalize(key)
	last := norm[Len-GroupLen:]
	tests := []struct{ name, in, want string }{
		{"formatted", "there is no license with the key " + key + "; check it", "there is no license with the key XXXXX-…-" + last + "; check it"},
		{"lower case", "key " + strings.ToLower(key), "key XXXXX-…-" + last},
		{"prose around", "the words about " + key + " today", "the words about XXXXX-…-" + last + " today"},
		{"normalized", "key=" + norm, "key=XXXXX-…-" + last},
		{"two keys", key + "," + key, "XXXXX-…-" + last + ",XXXXX-…-" + last},
		{"no key", "license lic_7QX4 is suspended", "license lic_7QX4 is suspended"},
		{"short", "ABCDE-12345", "ABCDE-12345"},
		{"longer run is not a key", strings.Repeat("a", 40), strings.Repeat("a", 40)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Mask(tc.in); got != tc.want {
				t.Fatalf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzMask(f *testing.F) {
	f.Add("key ABCDE-FGHJK-MNPQR-STVWX-YZ012 end")
	f.Fuzz(func(t *testing.T, s string) {
		out := Mask(s)
		if keyShape.MatchString(out) {
			t.Fatalf("Mask(%q) = %q still holds a key", s, out)
		}
	})
}
