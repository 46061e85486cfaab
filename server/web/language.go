package web

import (
	"embed"
	"net/http"
	"path"

	"golang.org/x/text/language"

	"github.com/entitle/entitle/pkg/i18n"
)

// language is the page's language: the choice this browser remembers (the
// cookie), then the choice the account remembers (accounts.locale, so it
// follows the person to another browser), then the browser's
// Accept-Language, then English.
func (p *Pages) language(r *http.Request, c *call) language.Tag {
	if _, err := r.Cookie(i18n.CookieName); err == nil {
		return p.cat.FromRequest(r)
	}
	if c.acct.Locale != "" {
		return p.cat.Match(c.acct.Locale)
	}
	return p.cat.Match(r.Header.Get("Accept-Language"))
}

// setLanguage is the language switch of every page: it remembers the choice
// in a cookie and, signed in, on the account, and goes back to the page.
func (p *Pages) setLanguage(w http.ResponseWriter, r *http.Request, c *call) {
	var tag language.Tag
	switch r.PostFormValue("lang") {
	case i18n.English.String():
		tag = i18n.English
	case i18n.French.String():
		tag = i18n.French
	default:
		c.message(w, r, http.StatusBadRequest, "web_language_title", "web_language_unknown", nil)
		return
	}
	if c.signedIn() {
		if err := p.d.Accounts.SetLocale(r.Context(), c.acct.ID, tag.String()); err != nil {
			c.fail(w, r, "set locale", err)
			return
		}
	}
	i18n.RememberChoice(w, tag, p.secure)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

//go:embed static/console.css static/console.js static/computers.js
var staticFiles embed.FS

// static serves the stylesheet and the script from the binary.
func (p *Pages) static(w http.ResponseWriter, r *http.Request, _ *call) {
	name := r.PathValue("file")
	ctype := map[string]string{"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8",
		"computers.js": "text/javascript; charset=utf-8"}[name]
	b, err := staticFiles.ReadFile(path.Join("static", name))
	if ctype == "" || err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}
