package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestTemplatesHaveNoProse: every word of a page comes from the catalog
// ({{t "id"}}); what is left once tags and actions are removed has no
// letters, except the product's name and the languages' own names.
func TestTemplatesHaveNoProse(t *testing.T) {
	action := regexp.MustCompile(`(?s){{.*?}}`)
	tag := regexp.MustCompile(`(?s)<[^>]*>`)
	letters := regexp.MustCompile(`\pL{2,}`)
	allowed := map[string]bool{"Entitle": true, "English": true, "Français": true, "TXT": true} // names, and a DNS record type
	err := fs.WalkDir(templateFiles, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFiles.ReadFile(path)
		if err != nil {
			return err
		}
		text := tag.ReplaceAllString(action.ReplaceAllString(string(b), " "), " ")
		for _, w := range letters.FindAllString(text, -1) {
			if !allowed[w] {
				t.Errorf("%s: %q is not from the catalog", path, w)
			}
		}
		// Attributes people read (aria-label, title, placeholder) too.
		for _, m := range regexp.MustCompile(`(?:aria-label|title|placeholder|alt|data-confirm)="([^"{]+)"`).FindAllStringSubmatch(string(b), -1) {
			if strings.TrimSpace(m[1]) != "" {
				t.Errorf("%s: attribute text %q is not from the catalog", path, m[1])
			}
		}
		// No inline script or style: the CSP forbids them.
		if regexp.MustCompile(`(?i)<script>|<style|\sstyle=|\son[a-z]+=`).MatchString(string(b)) {
			t.Errorf("%s: inline script or style", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
