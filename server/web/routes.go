package web

import (
	"context"
	"net/http"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/httpapi/httpmw"
)

// gate is who a route admits before its handler runs.
type gate int

const (
	// anyone: signed in or not; the handler decides (sign-in, device and
	// password pages, the language switch, static files).
	anyone gate = iota
	// person: a signed-in person; others are sent to the sign-in page.
	person
	// org: a signed-in person with at least route.role in {org}; a
	// non-member gets 404, a member with a lower role 403 (authz.Decide).
	org
	// operator: a signed-in person whose account is an operator of the
	// console (organizations.IsOperator); others get 404, so the pages'
	// existence is not revealed.
	operator
)

// route is one page of the console. Adding a page is adding a row to
// routes() (and to server/authz/routes.go as Web).
type route struct {
	pattern string
	gate    gate
	role    authz.Access // org routes: authz.Member, authz.Admin or authz.Owner
	h       func(w http.ResponseWriter, r *http.Request, c *call)
	// signedOut, on a person route, answers a signed-out request instead of
	// the redirect to the sign-in page.
	signedOut http.HandlerFunc
}

// routes is every page of the console.
func (p *Pages) routes() []route {
	rs := []route{
		{pattern: "GET /{$}", gate: anyone, h: func(w http.ResponseWriter, r *http.Request, _ *call) {
			http.Redirect(w, r, "/account", http.StatusSeeOther)
		}},
		{pattern: "GET /static/{file}", gate: anyone, h: p.static},
		{pattern: "POST /language", gate: anyone, h: p.setLanguage},
	}
	rs = append(rs, p.authRoutes()...)
	rs = append(rs, p.accountRoutes()...)
	rs = append(rs, p.orgRoutes()...)
	rs = append(rs, p.computersRoutes()...)
	rs = append(rs, p.purchasesRoutes()...)
	rs = append(rs, p.operatorRoutes()...)
	if p.d.Passwords != nil {
		rs = append(rs, p.passwordRoutes()...)
	}
	return rs
}

// call is one request to a page, once its gate let it through.
type call struct {
	p       *Pages
	acct    accounts.Account // zero when signed out
	token   string           // the session token, "" when signed out
	loc     *i18n.Localizer
	csrf    string
	org     *orgView // org routes: the organization and the caller's role
	pattern string
	path    string // the request's path, for the navigation
	// isOp caches isOperator: nil until asked.
	isOp *bool
	ctx  context.Context // the request's
}

func (c *call) signedIn() bool { return c.token != "" }

// T renders a catalog message in the page's language.
func (c *call) T(id string, a i18n.Args) string { return c.loc.T(id, a) }

// principal is the caller as package authz sees it.
func (c *call) principal() authz.Principal {
	pr := authz.Principal{AccountID: c.acct.ID}
	if c.org != nil {
		pr.OrgID, pr.Role = c.org.ID, c.org.Role
	}
	return pr
}

// crossOrigin refuses non-safe cross-origin browser requests (Sec-Fetch-Site,
// Origin against Host).
var crossOrigin = http.NewCrossOriginProtection()

// wrap runs a route's gate: the session, the language, the organization's
// role and, on every POST, the same-origin and CSRF checks.
func (p *Pages) wrap(rt route) http.Handler {
	if _, ok := authz.Lookup(rt.pattern); !ok {
		panic("web: route " + rt.pattern + " is not in the authz route table")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{p: p, pattern: rt.pattern, path: r.URL.Path, ctx: r.Context()}
		acct, tok, ok := p.signedIn(r)
		if ok {
			c.acct, c.token = acct, tok
		}
		c.loc = p.cat.Localizer(p.language(r, c))
		if rt.gate != anyone && !c.signedIn() {
			if rt.signedOut != nil {
				rt.signedOut(w, r)
				return
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		c.csrf = p.csrfToken(w, r, c)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !parseForm(w, r) || crossOrigin.Check(r) != nil || !p.checkCSRF(r, c) {
				p.forbidden(w, r, c)
				return
			}
		}
		if rt.gate == org && !p.orgGate(w, r, c, rt.role) {
			return
		}
		if rt.gate == operator && !p.operatorGate(w, r, c) {
			return
		}
		rt.h(w, r, c)
	})
}

// view starts the View of a page titled with catalog message title.
func (c *call) view(title string, data any) View {
	v := View{Lang: c.loc.Tag().String(), CSRF: c.csrf, Data: data}
	if title != "" {
		v.Title = c.T(title, nil)
	}
	if c.signedIn() {
		v.User = &User{Email: c.acct.Email}
		v.Nav = c.p.nav(c)
	}
	return v
}

// show renders page name with the shell.
func (c *call) show(w http.ResponseWriter, r *http.Request, status int, name string, v View) {
	c.p.render(w, r, status, name, v)
}

// message shows a page with a title and one paragraph, both catalog ids.
func (c *call) message(w http.ResponseWriter, r *http.Request, status int, title, body string, a i18n.Args) {
	v := c.view(title, nil)
	v.Data = c.T(body, a)
	c.show(w, r, status, "message", v)
}

// fail shows the page of a domain's refusal (its code in the catalog), or a
// server error that reveals nothing.
func (c *call) fail(w http.ResponseWriter, r *http.Request, op string, err error) {
	code, _, ok := serviceError(err)
	if ok && code != protocol.ErrInternal {
		v := c.view("web_refused_title", nil)
		v.Data = c.codeText(code)
		c.show(w, r, httpStatus(code), "message", v)
		return
	}
	c.p.logger.ErrorContext(r.Context(), "page failed", "op", op, "request_id", httpmw.FromContext(r.Context()).ID, "error", err)
	c.message(w, r, http.StatusInternalServerError, "web_error_title", "web_error_body", nil)
}

// codeText words an error code for people: the catalog's text for the code
// (codeTexts) or a general one.
func (c *call) codeText(code string) string {
	if id, ok := codeTexts[code]; ok {
		return sentence(c.T(id, nil))
	}
	return c.T("web_code_other", nil)
}

func (p *Pages) forbidden(w http.ResponseWriter, r *http.Request, c *call) {
	c.message(w, r, http.StatusForbidden, "web_refused_title", "mail_page_refused", nil)
}

// httpStatus is the status of a domain's refusal, as the API answers it.
func httpStatus(code string) int {
	if st, ok := adminapi.HTTPStatus(code); ok {
		return st
	}
	return protocol.HTTPStatus(code)
}
