// Package web serves the licensing server's HTML pages: sign-in, the account
// page (licenses, computers, releasing a seat) and the device-authorization
// pages where a person approves a computer that showed them a code.
//
// Entering user codes that match no waiting computer is rate limited per
// client IP by package deviceauth; past the limit the pages answer 429.
//
// The pages need no JavaScript. Every POST form carries a CSRF token: bound to
// the session (a hash of the session token) once signed in, or a
// double-submit cookie for the sign-in form itself.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/entitle/entitle/pkg/paging"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/deviceauth"
	"github.com/entitle/entitle/server/devices"
	"github.com/entitle/entitle/server/httpapi/httpmw"
	"github.com/entitle/entitle/server/licenses"
)

//go:embed templates/pages.html templates/style.css
var files embed.FS

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
}

// Licenses is the part of *licenses.Service the pages use.
type Licenses interface {
	ListLicenses(ctx context.Context, ownerAccountID string) ([]licenses.License, error)
}

// Devices is the part of *devices.Service the pages use.
type Devices interface {
	PageDevices(ctx context.Context, accountID string, req paging.Request) (paging.Page[devices.Device], error)
	ReleaseDevice(ctx context.Context, accountID, deviceID string) error
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
}

// Pages is the set of page handlers; register them with Register.
type Pages struct {
	d       Domains
	logger  *slog.Logger
	tmpl    *template.Template
	css     template.CSS
	csp     string
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
	css, err := files.ReadFile("templates/style.css")
	if err != nil {
		return nil, fmt.Errorf("web: read stylesheet: %w", err)
	}
	tmpl, err := template.New("pages").Funcs(template.FuncMap{
		"fmtTime": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"fmtDate": func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	}).ParseFS(files, "templates/pages.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse templates: %w", err)
	}
	// The one inline stylesheet is allowed by its hash, so the policy needs no
	// 'unsafe-inline' and no script source at all.
	sum := sha256.Sum256(css)
	p := &Pages{
		d: d, logger: cfg.Logger, tmpl: tmpl, css: template.CSS(css),
		csp: "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
			"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
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
	routes := []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/account", http.StatusSeeOther) }},
		{"GET /login", p.loginPage},
		{"POST /login", p.login},
		{"POST /logout", p.logout},
		{"GET /account", p.accountPage},
		{"POST /account/devices/{id}/release", p.release},
		{"GET " + protocol.PathVerify, p.devicePage},
		{"POST " + protocol.PathVerify + "/approve", p.approve},
		{"POST " + protocol.PathVerify + "/deny", p.deny},
	}
	patterns := make([]string, 0, len(routes))
	for _, r := range routes {
		mux.HandleFunc(r.pattern, r.h)
		patterns = append(patterns, r.pattern)
	}
	return append(patterns, p.registerPasswords(mux)...)
}

// page is the data every template gets.
type page struct {
	Title, Error, Notice, Body string
	CSS                        template.CSS
	CSRF                       string
	Email                      string // signed-in account, "" when signed out
	FormEmail                  string
	UserCode                   string
	DeviceFlow                 bool
	Info                       deviceauth.Info
	Licenses                   []licenses.License
	Devices                    []devices.Device
	DevicesTotal               int64
	DevicesNext                string // cursor of the next page of computers, "" on the last
	DevicesPaged               bool   // this is not the first page
}

// render executes into a buffer first so a template error becomes a clean
// 500 instead of half a page.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name string, d page) {
	d.CSS = p.css
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, d); err != nil {
		p.logger.ErrorContext(r.Context(), "render page", "page", name, "error", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", p.csp)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (p *Pages) message(w http.ResponseWriter, r *http.Request, status int, title, body string, d page) {
	d.Title, d.Body = title, body
	p.render(w, r, status, "message", d)
}

// serverError logs err and shows a page that reveals nothing about it.
func (p *Pages) serverError(w http.ResponseWriter, r *http.Request, op string, err error) {
	p.logger.ErrorContext(r.Context(), "page failed", "op", op, "request_id", httpmw.FromContext(r.Context()).ID, "error", err)
	p.message(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again in a moment.", page{})
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

// sessionCSRF derives the CSRF token of a session. A hash of the session token
// needs no server-side state or shared secret (so it works behind a load
// balancer), and a cross-site attacker cannot compute it without the cookie.
func sessionCSRF(token string) string {
	sum := sha256.Sum256([]byte("entitle-csrf-v1\x00" + token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func tokensEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// preLoginCSRF returns the double-submit token of the browser, setting a new
// cookie if it has none.
func (p *Pages) preLoginCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(p.csrf); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, p.cookie(p.csrf, tok, 0))
	return tok
}

// maxForm bounds a page form body; the largest holds an email and a password.
const maxForm = 8 << 10

// parseForm reads a bounded urlencoded form.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	return r.ParseForm() == nil
}

func (p *Pages) forbidden(w http.ResponseWriter, r *http.Request) {
	p.message(w, r, http.StatusForbidden, "Request refused",
		"The form was stale or did not come from this site. Go back, reload the page and try again.", page{})
}
