// Package web is the licensing server's web console: server-rendered pages
// (html/template) in English and French from the one catalog (pkg/i18n),
// served by entitle-server from the binary.
//
// The shell (shell.go, templates/layout.html) draws every page: navigation
// (the person's own pages; an admin section for each organization they
// administer), the language switch, the messages. Routes are declared in
// tables (routes.go): each says whether it needs a signed-in person and, for
// an organization's pages, the lowest role, checked with the API's rules
// (package authz; a non-member gets 404). Every POST is checked once, before
// its handler runs: same-origin (Origin, Sec-Fetch-Site) and a CSRF token,
// bound to the session (a hash of the session token) once signed in, or a
// double-submit cookie before.
//
// Adding a page: a row in a route table (routes.go's routes(), or a
// xxxRoutes() of its own file) with its gate (anyone, person, or org with a
// role), a handler func(w, r, *call), a {{define}} in templates/*.html that
// writes every word as {{t "id"}} (the id in pkg/i18n/locales/{en,fr}), and
// the pattern in server/authz/routes.go as Web. The handler builds its View
// with c.view or c.orgView, lists with listPage (keyset pages, total, links
// that keep the filters), asks before destroying with the "confirm" template
// (a Confirm saying what will happen), and answers domain errors with
// c.fail. A link for the navigation is a row in userNav or orgNav (nav.go).
//
// The pages need no JavaScript; the one script (static/console.js, served
// under script-src 'self') only enhances them. Entering user codes that match
// no waiting computer is rate limited per client IP by package deviceauth;
// past the limit the pages answer 429.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/deviceauth"
	"github.com/entitle/entitle/server/devices"
	"github.com/entitle/entitle/server/licenses"
)

// Domains are the server domains the pages call; package app builds them
// (*accounts.Service, *licenses.Service, ...).
type Domains struct {
	Accounts   Accounts
	Licenses   Licenses
	Devices    Devices
	DeviceAuth DeviceAuth
	Passwords  Passwords // optional: the forgot / new password pages
	// Nudge tells a released computer that is online to check in now
	// (the push hub); nil: it learns at its next check-in.
	Nudge Nudger
	// Optional: the activity page, and the organization pages.
	Journal       Journal
	Organizations Organizations
	Workspaces    Workspaces
	// Optional: an organization's overview and computers (all three).
	OrgDevices OrgDevices
	Commands   Commands
	Usage      Usage
	// Optional: the licenses and purchases pages (all three or none).
	Orders        Orders
	Plans         Plans
	Subscriptions Subscriptions
}

// Nudger is the part of *push.Hub the pages use.
type Nudger interface {
	Notify(ctx context.Context, deviceID string)
}

// Accounts is the part of *accounts.Service the pages use.
type Accounts interface {
	Login(ctx context.Context, email, password, clientIP string) (accounts.Account, error)
	NewSession(ctx context.Context, accountID string) (string, error)
	SessionAccount(ctx context.Context, token string) (accounts.Account, error)
	EndSession(ctx context.Context, token string) error
	SetLocale(ctx context.Context, accountID, locale string) error
	ChangePassword(ctx context.Context, accountID, keepSession, current, newPassword, clientIP string) error
}

// Licenses is the part of *licenses.Service the pages use.
type Licenses interface {
	PageLicenses(ctx context.Context, ownerAccountID string, req paging.Request) (paging.Page[licenses.License], error)
}

// Devices is the part of *devices.Service the pages use.
type Devices interface {
	PageDevices(ctx context.Context, accountID string, req paging.Request) (paging.Page[devices.Device], error)
	ReleaseDevice(ctx context.Context, accountID, deviceID string) error
	CheckOwner(ctx context.Context, accountID, deviceID string) error
}

// DeviceAuth is the part of *deviceauth.Service the pages use.
type DeviceAuth interface {
	DeviceAuthInfo(ctx context.Context, userCode, clientIP string) (deviceauth.Info, error)
	ApproveDeviceAuth(ctx context.Context, userCode, accountID, clientIP string) error
	DenyDeviceAuth(ctx context.Context, userCode, accountID, clientIP string) error
}

// Config configures the pages.
type Config struct {
	PublicURL string // https URLs make the cookies Secure and __Host- prefixed
	Logger    *slog.Logger
	Now       func() time.Time // default time.Now
}

// Pages is the set of page handlers; register them with Register.
type Pages struct {
	d       Domains
	logger  *slog.Logger
	now     func() time.Time
	cat     *i18n.Bundle
	tmpl    templates
	origin  string // scheme://host of the public URL, what Origin must say
	secure  bool
	session string // cookie names
	csrf    string
}

// New parses the embedded templates.
func New(d Domains, cfg Config) (*Pages, error) {
	if d.Accounts == nil || d.Licenses == nil || d.Devices == nil || d.DeviceAuth == nil {
		return nil, errors.New("web: a domain is missing")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("web: public URL %q must be an absolute http(s) URL", cfg.PublicURL)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cat := i18n.New()
	tmpl, err := parseTemplates(cat)
	if err != nil {
		return nil, err
	}
	p := &Pages{
		d: d, logger: cfg.Logger, now: cfg.Now, cat: cat, tmpl: tmpl,
		origin:  u.Scheme + "://" + u.Host,
		secure:  u.Scheme == "https",
		session: "entitle_session",
		csrf:    "entitle_csrf",
	}
	if p.secure {
		// __Host- cookies must be Secure, host-only and Path=/, which is what
		// we want anyway; the prefix makes the browser enforce it.
		p.session, p.csrf = "__Host-entitle_session", "__Host-entitle_csrf"
	}
	return p, nil
}

// Register adds the pages to mux and returns their patterns (so the API
// server can list every route it serves).
func (p *Pages) Register(mux *http.ServeMux) []string {
	var patterns []string
	for _, r := range p.routes() {
		mux.Handle(r.pattern, p.wrap(r))
		patterns = append(patterns, r.pattern)
	}
	return patterns
}

func (p *Pages) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode}
}

// maxCookie bounds cookie values before they reach the service.
const maxCookie = 512

// signedIn returns the account and session token of the request's session
// cookie, if it names a live session.
func (p *Pages) signedIn(r *http.Request) (accounts.Account, string, bool) {
	c, err := r.Cookie(p.session)
	if err != nil || c.Value == "" || len(c.Value) > maxCookie {
		return accounts.Account{}, "", false
	}
	acct, err := p.d.Accounts.SessionAccount(r.Context(), c.Value)
	if err != nil {
		return accounts.Account{}, "", false
	}
	return acct, c.Value, true
}

// maxForm bounds a page form body.
const maxForm = 16 << 10

// parseForm reads a bounded urlencoded form.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	return r.ParseForm() == nil
}
