package licensekey

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

var formatted = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$`)

func TestGenerate(t *testing.T) {
	seen := make(map[string]bool)
	for i := 0; i < 2000; i++ {
		k, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		if !formatted.MatchString(k) {
			t.Fatalf("Generate() = %q, not in the XXXXX-XXXXX-... format", k)
		}
		n, err := Normalize(k)
		if err != nil {
			t.Fatalf("Normalize(Generate()=%q): %v", k, err)
		}
		if Format(n) != k {
			t.Fatalf("Format(Normalize(%q)) = %q", k, Format(n))
		}
		if seen[n] {
			t.Fatalf("duplicate key %q", k)
		}
		seen[n] = true
	}
}

func TestNormalize(t *testing.T) {
	key, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	norm := strings.ReplaceAll(key, "-", "")
	// A key containing 0 and 1 so the look-alike mapping is exercised.
	withDigits := makeKey(t, "01ABCDEFGHJKMNPQRSTVWXYZ")
	lookalike := strings.NewReplacer("0", "o", "1", "l").Replace(strings.ToLower(withDigits))

	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{"canonical", norm, norm, ""},
		{"formatted", key, norm, ""},
		{"lower case with spaces", " " + strings.ToLower(strings.ReplaceAll(key, "-", " ")) + " ", norm, ""},
		{"look-alikes O I L", lookalike, withDigits, ""},
		{"capital I", strings.Replace(withDigits, "1", "I", 1), withDigits, ""},
		{"too short", norm[:24], "", "has 24 characters"},
		{"too long", norm + "0", "", "has 26 characters"},
		{"empty", "", "", "has 0 characters"},
		{"only hyphens", "-----", "", "has 0 characters"},
		{"U is refused", "U" + norm[1:], "", `character 1 ("U")`},
		{"punctuation at position 7", key[:6] + "!" + key[7:], "", `character 7 ("!")`},
		{"non-ASCII", "é" + norm[1:], "", `character 1 ("é")`},
		{"huge input", strings.Repeat("A", 10000), "", "too long"},
		{"check mismatch", flipLast(norm), "", "check character does not match: a character was probably mistyped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Normalize(%q) error = %v, want it to contain %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCheckCatchesTypos(t *testing.T) {
	for n := 0; n < 300; n++ {
		k, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		key := []byte(strings.ReplaceAll(k, "-", ""))
		t.Run("substitution", func(t *testing.T) {
			for i := range key {
				for _, c := range []byte(Alphabet) {
					if c == key[i] {
						continue
					}
					typo := append([]byte(nil), key...)
					typo[i] = c
					if _, err := Normalize(string(typo)); !errors.Is(err, ErrCheck) {
						t.Fatalf("key %s with position %d changed to %c: error %v, want ErrCheck", key, i+1, c, err)
					}
				}
			}
		})
		t.Run("transposition", func(t *testing.T) {
			for i := 0; i+1 < len(key); i++ {
				if key[i] == key[i+1] {
					continue
				}
				typo := append([]byte(nil), key...)
				typo[i], typo[i+1] = typo[i+1], typo[i]
				if _, err := Normalize(string(typo)); !errors.Is(err, ErrCheck) {
					t.Fatalf("key %s with positions %d,%d swapped: error %v, want ErrCheck", key, i+1, i+2, err)
				}
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"ABCDE", "ABCDE"},
		{"ABCDEF", "ABCDE-F"},
		{strings.Repeat("A", 25), "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := Format(tc.in); got != tc.want {
				t.Fatalf("Format(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzNormalize(f *testing.F) {
	k, err := Generate()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{k, "", "-", "ooooo-iiiii-lllll-00000-11111", "UUUUU", "\xff\xfe", strings.Repeat("Z", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Normalize(s)
		if err != nil {
			return
		}
		if len(n) != Len {
			t.Fatalf("Normalize(%q) = %q, length %d", s, n, len(n))
		}
		again, err := Normalize(Format(n))
		if err != nil || again != n {
			t.Fatalf("Normalize(Format(%q)) = %q, %v", n, again, err)
		}
	})
}

// makeKey completes 24 data symbols with their check symbol.
func makeKey(t *testing.T, data string) string {
	t.Helper()
	if len(data) != DataLen {
		t.Fatalf("makeKey: %d symbols", len(data))
	}
	vals := make([]byte, DataLen)
	for i := range data {
		vals[i] = byte(strings.IndexByte(Alphabet, data[i]))
	}
	return data + string(Alphabet[checkValue(vals)])
}

func flipLast(norm string) string {
	last := norm[len(norm)-1]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	return norm[:len(norm)-1] + string(repl)
}
