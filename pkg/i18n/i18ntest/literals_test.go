package i18ntest

import (
	"slices"
	"testing"
)

// TestLiteralsFindsText proves the scanner catches each kind of literal it
// promises to, and leaves catalog calls, format-only strings and marked
// lines alone.
func TestLiteralsFindsText(t *testing.T) {
	got, err := Literals("testdata/bad")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, f := range got {
		texts = append(texts, f.Text)
	}
	want := []string{"Deactivated.", "Last error: ", "Do something", "do not ask", "no terminal", "Quit", " since today"}
	slices.Sort(texts)
	slices.Sort(want)
	if !slices.Equal(texts, want) {
		t.Fatalf("found %q\nwant  %q", texts, want)
	}
}
