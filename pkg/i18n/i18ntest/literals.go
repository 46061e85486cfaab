// Package i18ntest holds the checks that keep user-facing words in the
// catalog: a source scanner that finds string literals written where text
// reaches a person instead of coming from a pkg/i18n Localizer: fmt printing,
// errors, cobra help, flag usages, the text fields of UI structures (Label,
// Title, Body...), and anywhere in the file a literal that reads as prose
// (two words with a space between them), except log messages (log/slog
// calls), which are for developers. Templates are scanned by
// TemplateLiterals.
package i18ntest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Finding is a literal that should be a catalog message.
type Finding struct {
	Pos    string // file:line
	Text   string
	offset int // of the literal in its file, to report it once
}

func (f Finding) String() string { return fmt.Sprintf("%s: %q", f.Pos, f.Text) }

// IgnoreMarker on a line exempts that line's literals, e.g. text only a
// developer sees in a log. Say why after it.
const IgnoreMarker = "i18n:ignore"

// printFuncs are the fmt and errors functions whose literal arguments are
// words someone reads.
var printFuncs = map[string]map[string]bool{
	"fmt": {"Print": true, "Println": true, "Printf": true, "Fprint": true, "Fprintln": true, "Fprintf": true,
		"Sprint": true, "Sprintln": true, "Sprintf": true, "Errorf": true},
	"errors": {"New": true},
}

// helpFields are the cobra.Command fields shown in help.
var helpFields = map[string]bool{"Short": true, "Long": true, "Example": true, "Deprecated": true}

// flagFunc matches pflag's definition methods; their last argument is the
// usage shown in help.
var flagFunc = regexp.MustCompile(`^(String|Bool|Int|Int64|Uint|Float64|Duration|StringArray|StringSlice|IntSlice|Count)(Var)?P?$`)

// textFields are the struct fields (tray menus, notifications, page data)
// whose value a person reads.
var textFields = map[string]bool{"Label": true, "Title": true, "Body": true, "Tooltip": true, "Summary": true, "Placeholder": true, "Heading": true}

// logFuncs are the logging methods whose message is for developers.
var logFuncs = map[string]bool{"Debug": true, "Info": true, "Warn": true, "Error": true, "DebugContext": true, "InfoContext": true,
	"WarnContext": true, "ErrorContext": true, "Log": true, "LogAttrs": true}

// prose matches two words separated by spaces: a phrase someone reads.
var prose = regexp.MustCompile(`\pL\pL+[ \x{00a0}]+\pL\pL+`)

// verb strips fmt verbs before a literal is judged.
var verb = regexp.MustCompile(`%[-+# 0-9.*\[\]]*[a-zA-Z%]`)

// words reports whether s holds a word: two letters in a row once fmt
// verbs and escapes are removed.
var word = regexp.MustCompile(`\pL\pL`)

// Literals scans the non-test Go files of dir (not its subfolders) and
// returns the literals that reach a person without the catalog.
func Literals(dir string) ([]Finding, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var out []Finding
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		ignored := map[int]bool{}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if strings.Contains(c.Text, IgnoreMarker) {
					ignored[fset.Position(c.Pos()).Line] = true
				}
			}
		}
		// check reports lit when its text, fmt verbs removed, matches re
		// (and it was not reported already: skip).
		check := func(lit *ast.BasicLit, re *regexp.Regexp, skip map[int]bool) {
			if lit.Kind != token.STRING {
				return
			}
			pos := fset.Position(lit.Pos())
			if ignored[pos.Line] || skip[pos.Offset] {
				return
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				s = lit.Value
			}
			if re.MatchString(verb.ReplaceAllString(s, "")) {
				out = append(out, Finding{Pos: fmt.Sprintf("%s:%d", filepath.Base(pos.Filename), pos.Line), Text: s, offset: pos.Offset})
			}
		}
		report := func(n ast.Node) {
			ast.Inspect(n, func(m ast.Node) bool {
				switch m.(type) {
				case *ast.CallExpr, *ast.CompositeLit:
					// Arguments of other calls (loc.T ids) and map keys
					// (placeholder names) are not text; a nested print
					// call is visited on its own.
					return false
				}
				if lit, ok := m.(*ast.BasicLit); ok {
					check(lit, word, nil)
				}
				return true
			})
		}
		n0 := len(out)
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); ok && printFuncs[pkg.Name][sel.Sel.Name] {
					for _, a := range x.Args {
						report(a)
					}
					return true
				}
				if flagFunc.MatchString(sel.Sel.Name) && len(x.Args) >= 2 {
					report(x.Args[len(x.Args)-1])
				}
			case *ast.KeyValueExpr:
				if k, ok := x.Key.(*ast.Ident); ok && (helpFields[k.Name] || textFields[k.Name]) {
					report(x.Value)
				}
			}
			return true
		})
		seen := map[int]bool{} // offsets already reported by the rules above
		for _, fd := range out[n0:] {
			seen[fd.offset] = true
		}
		// Prose anywhere but imports, struct tags and log messages.
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.ImportSpec, *ast.Field:
				return false
			case *ast.KeyValueExpr:
				if k, ok := x.Key.(*ast.Ident); ok && k.Name == "Use" {
					return false // a cobra command's syntax: its name and ARGUMENTS
				}
			case *ast.CallExpr:
				if sel, ok := x.Fun.(*ast.SelectorExpr); ok && logFuncs[sel.Sel.Name] {
					return false
				}
			case *ast.BasicLit:
				check(x, prose, seen)
			}
			return true
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pos < out[j].Pos })
	return out, nil
}
