package web

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"net/http"
	"strings"

	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi/httpmw"
)

//go:embed templates/password.html
var passwordFiles embed.FS

// Passwords is the part of *passwordreset.Service the pages use.
type Passwords interface {
	Forgot(ctx context.Context, email, clientIP, locale string) error
	Reset(ctx context.Context, token, newPassword string) error
}

// passwordPages are "forgot password" and "set a new password", worded from
// the catalog in the reader's language.
type passwordPages struct {
	p    *Pages
	d    Passwords
	cat  *i18n.Bundle
	tmpl *template.Template
}

// passwordTexts are the words of the two pages in one language.
type passwordTexts struct {
	ForgotTitle, ForgotIntro, Email, ForgotSubmit, ForgotSent      string
	ResetTitle, NewPassword, ResetSubmit, ResetDone, ResetBadToken string
	PasswordRule, RateLimited, SignIn, Refused, Failed             string
}

func (pp *passwordPages) texts(loc *i18n.Localizer) passwordTexts {
	return passwordTexts{
		ForgotTitle:   loc.T("mail_page_forgot_title", nil),
		ForgotIntro:   loc.T("mail_page_forgot_intro", nil),
		Email:         loc.T("mail_page_email", nil),
		ForgotSubmit:  loc.T("mail_page_forgot_submit", nil),
		ForgotSent:    loc.T("mail_page_forgot_sent", nil),
		ResetTitle:    loc.T("mail_page_reset_title", nil),
		NewPassword:   loc.T("mail_page_new_password", nil),
		ResetSubmit:   loc.T("mail_page_reset_submit", nil),
		ResetDone:     loc.T("mail_page_reset_done", nil),
		ResetBadToken: loc.T("mail_page_reset_bad_token", nil),
		PasswordRule:  loc.T("mail_page_password_rule", nil),
		RateLimited:   loc.T("mail_page_rate_limited", nil),
		SignIn:        loc.T("mail_page_sign_in", nil),
		Refused:       loc.T("mail_page_refused", nil),
		Failed:        loc.T("mail_page_failed", nil),
	}
}

type passwordPage struct {
	Lang, Title, Error, Notice, CSRF, Token string
	Done                                    bool
	CSS                                     template.CSS
	T                                       passwordTexts
}

func newPasswordPages(p *Pages, d Passwords) (*passwordPages, error) {
	tmpl, err := template.ParseFS(passwordFiles, "templates/password.html")
	if err != nil {
		return nil, err
	}
	return &passwordPages{p: p, d: d, cat: i18n.New(), tmpl: tmpl}, nil
}

func (pp *passwordPages) routes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /password/forgot":  pp.forgotPage,
		"POST /password/forgot": pp.forgot,
		"GET /password/reset":   pp.resetPage,
		"POST /password/reset":  pp.reset,
	}
}

func (pp *passwordPages) start(r *http.Request) (passwordPage, *i18n.Localizer) {
	loc := pp.cat.Localizer(pp.cat.FromRequest(r))
	return passwordPage{Lang: loc.Tag().String(), T: pp.texts(loc), CSS: pp.p.css}, loc
}

func (pp *passwordPages) render(w http.ResponseWriter, r *http.Request, status int, name string, d passwordPage) {
	var buf bytes.Buffer
	if err := pp.tmpl.ExecuteTemplate(&buf, name, d); err != nil {
		pp.p.logger.ErrorContext(r.Context(), "render page", "page", name, "error", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pp.p.csp)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer") // the reset page's URL holds the token
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// checkCSRF is the double-submit check of the signed-out forms.
func (pp *passwordPages) checkCSRF(w http.ResponseWriter, r *http.Request) (string, bool) {
	if !parseForm(w, r) {
		return "", false
	}
	c, err := r.Cookie(pp.p.csrf)
	if err != nil || !tokensEqual(c.Value, r.PostFormValue("csrf")) {
		return "", false
	}
	return c.Value, true
}

func (pp *passwordPages) refuse(w http.ResponseWriter, r *http.Request, d passwordPage, title string) {
	d.Title, d.Error, d.Done = title, d.T.Refused, true
	pp.render(w, r, http.StatusForbidden, "forgot", d)
}

func (pp *passwordPages) forgotPage(w http.ResponseWriter, r *http.Request) {
	d, _ := pp.start(r)
	d.Title, d.CSRF = d.T.ForgotTitle, pp.p.preLoginCSRF(w, r)
	pp.render(w, r, http.StatusOK, "forgot", d)
}

func (pp *passwordPages) forgot(w http.ResponseWriter, r *http.Request) {
	d, loc := pp.start(r)
	d.Title = d.T.ForgotTitle
	csrf, ok := pp.checkCSRF(w, r)
	if !ok {
		pp.refuse(w, r, d, d.T.ForgotTitle)
		return
	}
	d.CSRF = csrf
	email := strings.TrimSpace(r.PostFormValue("email"))
	if email == "" || len(email) > maxEmail {
		d.Error = d.T.Email
		pp.render(w, r, http.StatusBadRequest, "forgot", d)
		return
	}
	err := pp.d.Forgot(r.Context(), email, httpmw.ClientIP(r.Context()), loc.Tag().String())
	if code, _, isService := serviceError(err); err != nil {
		if isService && code == protocol.ErrRateLimited {
			d.Error = d.T.RateLimited
			pp.render(w, r, http.StatusTooManyRequests, "forgot", d)
			return
		}
		pp.p.logger.ErrorContext(r.Context(), "page failed", "op", "password forgot", "error", err)
		d.Error = d.T.Failed
		pp.render(w, r, http.StatusInternalServerError, "forgot", d)
		return
	}
	// The same answer whether or not an account has the email.
	d.Notice, d.Done = d.T.ForgotSent, true
	pp.render(w, r, http.StatusOK, "forgot", d)
}

// maxToken bounds the reset token read from the link or the form.
const maxToken = 128

func (pp *passwordPages) resetPage(w http.ResponseWriter, r *http.Request) {
	d, _ := pp.start(r)
	d.Title = d.T.ResetTitle
	d.Token = r.URL.Query().Get("token")
	if d.Token == "" || len(d.Token) > maxToken {
		d.Error, d.Done = d.T.ResetBadToken, true
		pp.render(w, r, http.StatusBadRequest, "reset", d)
		return
	}
	d.CSRF = pp.p.preLoginCSRF(w, r)
	pp.render(w, r, http.StatusOK, "reset", d)
}

func (pp *passwordPages) reset(w http.ResponseWriter, r *http.Request) {
	d, _ := pp.start(r)
	d.Title = d.T.ResetTitle
	csrf, ok := pp.checkCSRF(w, r)
	if !ok {
		pp.refuse(w, r, d, d.T.ResetTitle)
		return
	}
	d.CSRF, d.Token = csrf, r.PostFormValue("token")
	pw := r.PostFormValue("new_password")
	if d.Token == "" || len(d.Token) > maxToken {
		d.Error, d.Done = d.T.ResetBadToken, true
		pp.render(w, r, http.StatusBadRequest, "reset", d)
		return
	}
	if len(pw) < 8 || len(pw) > maxPassword {
		d.Error = d.T.PasswordRule
		pp.render(w, r, http.StatusBadRequest, "reset", d)
		return
	}
	err := pp.d.Reset(r.Context(), d.Token, pw)
	if err != nil {
		code, _, isService := serviceError(err)
		switch {
		case isService && code == protocol.ErrExpiredToken:
			d.Error, d.Done = d.T.ResetBadToken, true
		case isService && code == protocol.ErrInvalidRequest:
			d.Error = d.T.PasswordRule
		default:
			pp.p.logger.ErrorContext(r.Context(), "page failed", "op", "password reset", "error", err)
			d.Error = d.T.Failed
			pp.render(w, r, http.StatusInternalServerError, "reset", d)
			return
		}
		pp.render(w, r, http.StatusBadRequest, "reset", d)
		return
	}
	// Every session was revoked, this browser's included.
	http.SetCookie(w, pp.p.cookie(pp.p.session, "", -1))
	d.Notice, d.Done, d.Token = d.T.ResetDone, true, ""
	pp.render(w, r, http.StatusOK, "reset", d)
}

// registerPasswords adds the password pages when the domain is wired, and
// returns their patterns.
func (p *Pages) registerPasswords(mux *http.ServeMux) []string {
	if p.d.Passwords == nil {
		return nil
	}
	pp, err := newPasswordPages(p, p.d.Passwords)
	if err != nil {
		// The template is embedded: the package's tests rule this out.
		panic(err)
	}
	var patterns []string
	for pattern, h := range pp.routes() {
		mux.HandleFunc(pattern, h)
		patterns = append(patterns, pattern)
	}
	return patterns
}
