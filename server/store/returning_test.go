package store_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoQueryRowOnReturning reads the server's source and refuses any
// QueryRow call whose query has RETURNING: QueryRow resets the statement
// before it completes, which on SQLite stops the automatic checkpoint (the log
// then grows without limit). Such statements go through WriteRow or
// WritePoint, which run them to completion.
func TestNoQueryRowOnReturning(t *testing.T) {
	root := filepath.Join("..") // server/
	dirs := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			dirs[filepath.Dir(p)] = append(dirs[filepath.Dir(p)], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, files := range dirs {
		fset := token.NewFileSet()
		var parsed []*ast.File
		consts := map[string]ast.Expr{}
		for _, f := range files {
			af, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			parsed = append(parsed, af)
			for _, decl := range af.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							consts[n.Name] = vs.Values[i]
						}
					}
				}
			}
		}
		for _, af := range parsed {
			ast.Inspect(af, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				switch sel.Sel.Name {
				case "QueryRow", "QueryRowContext":
				default:
					return true
				}
				checked++
				for _, arg := range call.Args {
					if q := constString(arg, consts, 0); strings.Contains(strings.ToUpper(q), "RETURNING") {
						t.Errorf("%s: %s on a statement with RETURNING; use WriteRow or WritePoint so it runs to completion",
							fset.Position(call.Pos()), sel.Sel.Name)
					}
				}
				return true
			})
		}
	}
	if checked == 0 {
		t.Fatal("no QueryRow call found: the source walk is broken")
	}
}

// constString evaluates a string made of literals, package constants and +.
func constString(e ast.Expr, consts map[string]ast.Expr, depth int) string {
	if depth > 20 {
		return ""
	}
	switch v := e.(type) {
	case *ast.BasicLit:
		if v.Kind == token.STRING {
			s, _ := strconv.Unquote(v.Value)
			return s
		}
	case *ast.Ident:
		if c, ok := consts[v.Name]; ok {
			return constString(c, consts, depth+1)
		}
	case *ast.BinaryExpr:
		if v.Op == token.ADD {
			return constString(v.X, consts, depth+1) + constString(v.Y, consts, depth+1)
		}
	case *ast.ParenExpr:
		return constString(v.X, consts, depth+1)
	}
	return ""
}
