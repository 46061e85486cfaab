package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/server/httpapi/httpmw"
)

//go:embed templates/*.html
var templateFiles embed.FS

// csp is the pages' Content-Security-Policy: the stylesheet and the script
// come from this server only, nothing inline (no inline script, no style
// attribute), forms post only here, no framing.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// templates holds the page templates once per language: the "t" function of
// each set renders catalog messages in that language.
type templates map[language.Tag]*template.Template

// funcs are the template functions of one language. Page templates write
// every word with them: {{t "web_nav_licenses"}}, {{t "web_x" "name" .Name}},
// {{plural "web_n_computers" .Total}}.
func funcs(loc *i18n.Localizer) template.FuncMap {
	return template.FuncMap{
		"t":      func(id string, kv ...any) string { return loc.T(id, args(kv)) },
		"plural": func(id string, n any, kv ...any) string { return loc.Plural(id, toInt(n), args(kv)) },
		"date":   func(t time.Time) string { return loc.Date(t) },
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return loc.T("web_never", nil)
			}
			return loc.DateTime(t)
		},
		"number": func(n any) string { return loc.Number(toInt(n)) },
	}
}

func toInt(n any) int {
	switch v := n.(type) {
	case int:
		return v
	case int64:
		return int(v)
	}
	return 0
}

// args turns template arguments "name", value, ... into i18n.Args.
func args(kv []any) i18n.Args {
	if len(kv) == 0 {
		return nil
	}
	a := i18n.Args{}
	for i := 0; i+1 < len(kv); i += 2 {
		a[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return a
}

func parseTemplates(cat *i18n.Bundle) (templates, error) {
	base, err := template.New("pages").Funcs(funcs(cat.Localizer(i18n.English))).ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse templates: %w", err)
	}
	out := templates{}
	for _, tag := range i18n.Languages() {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("web: clone templates: %w", err)
		}
		out[tag] = t.Funcs(funcs(cat.Localizer(tag)))
	}
	return out, nil
}

// View is what the layout draws around every page.
type View struct {
	Lang   string // the page's language, "en" or "fr"
	Title  string // already in the page's language
	Error  string
	Notice string
	CSRF   string // the token every form of the page carries
	Path   string // the page's path and query, where the language switch returns
	User   *User  // nil when signed out
	Nav    []NavSection
	// Content is the page's own template, rendered first.
	Content template.HTML
	// Data is the page's own data.
	Data any
}

// User is the signed-in person, as the shell shows them.
type User struct {
	Email string
}

// NavSection is one group of links in the navigation.
type NavSection struct {
	Heading string
	Items   []NavItem
}

// NavItem is one link; Current marks the page being shown.
type NavItem struct {
	Label, Href string
	Current     bool
}

// render draws the page template name inside the layout. Both are executed
// into buffers first, so a template error becomes a clean 500 instead of
// half a page.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name string, v View) {
	tag := p.cat.Match(v.Lang)
	t := p.tmpl[tag]
	v.Lang = tag.String()
	if v.Path == "" {
		v.Path = r.URL.RequestURI()
	}
	var content, page bytes.Buffer
	err := t.ExecuteTemplate(&content, name, v)
	if err == nil {
		v.Content = template.HTML(content.String()) // #nosec G203 -- our own template's output
		err = t.ExecuteTemplate(&page, "layout", v)
	}
	if err != nil {
		p.logger.ErrorContext(r.Context(), "render page", "page", name, "request_id", httpmw.FromContext(r.Context()).ID, "error", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer") // some pages' URLs hold a token
	w.WriteHeader(status)
	_, _ = w.Write(page.Bytes())
}

// safeNext is a local path to return to after a form, or "/account": only
// a path on this site (no scheme, no host, no "//"), so a form cannot be
// turned into an open redirect.
func safeNext(s string) string {
	if len(s) > 2048 || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n") {
		return "/account"
	}
	return s
}
