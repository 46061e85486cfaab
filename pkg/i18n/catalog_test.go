package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/i18n/i18ntest"
)

// repoRoot is the module's root, two levels up from pkg/i18n.
const repoRoot = "../.."

// placeholder matches {{.name}} in a message.
var placeholder = regexp.MustCompile(`{{\s*\.(\w+)\s*}}`)

func placeholders(text string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// TestCatalogComplete: every message exists in every language with the same
// placeholders, and every text is a template that renders.
func TestCatalogComplete(t *testing.T) {
	b := New()
	en := b.IDs(English)
	if len(en) < 100 {
		t.Fatalf("only %d English messages: catalog not loaded?", len(en))
	}
	for _, tag := range Languages()[1:] {
		if other := b.IDs(tag); !slices.Equal(en, other) {
			for _, id := range en {
				if _, ok := b.Text(tag, id); !ok {
					t.Errorf("%s: %q is missing", tag, id)
				}
			}
			for _, id := range other {
				if _, ok := b.Text(English, id); !ok {
					t.Errorf("%s: %q does not exist in English", tag, id)
				}
			}
		}
		for _, id := range en {
			et, _ := b.Text(English, id)
			ot, ok := b.Text(tag, id)
			if ok && !slices.Equal(placeholders(et), placeholders(ot)) {
				t.Errorf("%q: placeholders %v in English, %v in %s", id, placeholders(et), placeholders(ot), tag)
			}
		}
	}
}

// TestFrenchTypography applies i18ntest.FrenchProblems to every French
// message.
func TestFrenchTypography(t *testing.T) {
	b := New()
	for _, id := range b.IDs(French) {
		text, _ := b.Text(French, id)
		for _, p := range i18ntest.FrenchProblems(text) {
			t.Errorf("%s: %s in %q", id, p, text)
		}
	}
}

// TestFrenchRulesCatch proves each rule fires on a bad text and stays quiet
// on good ones.
func TestFrenchRulesCatch(t *testing.T) {
	for _, c := range []struct {
		text string
		bad  bool
	}{
		{"Licence active\u00a0: formule {{.plan}}", false},
		{"Supprimer «\u202f{{.name}}\u202f»\u00a0?", false},
		{"lancez `entitle status --json` ; voir https://x.example:8080/a", true}, // plain space before ;
		{"Licence active : oui", true},
		{"Licence active: oui", true},
		{"le profil \"perso\"", true},
		{"l'agent", true},
		{"Patientez...", true},
		{"la license est suspendue", true},
		{"cet ordinateur", true},
		{"l’espace de travail", true},
		{"il garde son siège", true},
		{"aide de entitle-tray", true},
		{"aide d’entitle-tray\u00a0; publiez-le et réessayez", false},
		{"lancez `entitle status`\u00a0; voir https://x.example:8080/a et --license-key", false},
	} {
		if got := len(i18ntest.FrenchProblems(c.text)) > 0; got != c.bad {
			t.Errorf("%q: problems %v, want bad=%v", c.text, i18ntest.FrenchProblems(c.text), c.bad)
		}
	}
}

// goFiles walks the module's Go files (tests excluded unless tests).
func goFiles(t *testing.T, tests bool, visit func(path string, f *ast.File)) {
	t.Helper()
	fset := token.NewFileSet()
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != repoRoot) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") != tests && !tests {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			return err
		}
		visit(path, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNoUnusedMessages: every message id appears as a string literal in the
// Go source (not counting tests), so the catalog holds no dead text; and
// every literal id passed to a Localizer (T, Plural) exists in the catalog.
func TestNoUnusedMessages(t *testing.T) {
	b := New()
	literals := map[string]bool{}
	goFiles(t, false, func(path string, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.BasicLit:
				if x.Kind == token.STRING {
					if s, err := strconv.Unquote(x.Value); err == nil {
						literals[s] = true
					}
				}
			case *ast.CallExpr:
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "T" && sel.Sel.Name != "Plural") || len(x.Args) < 2 {
					return true
				}
				if lit, ok := x.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					id, _ := strconv.Unquote(lit.Value)
					if _, ok := b.Text(English, id); !ok && strings.Contains(id, "_") {
						t.Errorf("%s: message %q is not in the catalog", path, id)
					}
				}
			}
			return true
		})
	})
	// Page templates (server/web) write their words as {{t "id"}} and
	// {{plural "id" n}}: those ids are used too, and must exist.
	templateFiles(t, func(path, src string) {
		for _, m := range templateCall.FindAllStringSubmatch(src, -1) {
			literals[m[1]] = true
			if _, ok := b.Text(English, m[1]); !ok {
				t.Errorf("%s: message %q is not in the catalog", path, m[1])
			}
		}
	})
	for _, id := range b.IDs(English) {
		if !literals[id] {
			t.Errorf("message %q is not used by any Go source or page template", id)
		}
	}
}

// templateCall is a catalog call in an html/template page.
var templateCall = regexp.MustCompile(`{{-?\s*(?:t|plural)\s+"([a-z0-9_]+)"`)

// templateFiles visits the module's page templates (*.html under a
// templates directory).
func templateFiles(t *testing.T, visit func(path, src string)) {
	t.Helper()
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != repoRoot) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".html") || filepath.Base(filepath.Dir(path)) != "templates" {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		visit(path, string(src))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// scannedDirs are the packages whose user-facing text must come from the
// catalog. A new package that shows text to a person belongs here.
var scannedDirs = []string{
	"agent/cli",
	"internal/clihelp",
	"server/cmd/entitle-server",
	"agent/flagtext",
	"agent/profiles/profilescli",
	"agent/terminal",
	"pkg/statustext",
	"tray/app",
	"tray/cmd/entitle-tray",
	"tray/model",
}

// TestNoLiteralsOutsideCatalog fails when a package of scannedDirs prints,
// returns as an error or shows in help a literal with words in it instead of
// a catalog message (see i18ntest.Literals for the rules and the
// i18n:ignore marker).
func TestNoLiteralsOutsideCatalog(t *testing.T) {
	for _, dir := range scannedDirs {
		found, err := i18ntest.Literals(filepath.Join(repoRoot, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range found {
			t.Errorf("%s/%s: user-facing literal outside the catalog (add a message to pkg/i18n/locales/{en,fr}/)", dir, f)
		}
	}
}
