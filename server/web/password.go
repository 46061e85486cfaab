package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi/httpmw"
)

// Passwords is the part of *passwordreset.Service the pages use.
type Passwords interface {
	Forgot(ctx context.Context, email, clientIP, locale string) error
	Reset(ctx context.Context, token, newPassword string) error
}

// passwordRoutes are "forgot password" and "set a new password".
func (p *Pages) passwordRoutes() []route {
	return []route{
		{pattern: "GET /password/forgot", gate: anyone, h: p.forgotPage},
		{pattern: "POST /password/forgot", gate: anyone, h: p.forgot},
		{pattern: "GET /password/reset", gate: anyone, h: p.resetPage},
		{pattern: "POST /password/reset", gate: anyone, h: p.reset},
	}
}

// passwordForm is the data of the two pages: Done hides the form.
type passwordForm struct {
	Token string
	Done  bool
}

func (p *Pages) forgotPage(w http.ResponseWriter, r *http.Request, c *call) {
	c.show(w, r, http.StatusOK, "forgot", c.view("mail_page_forgot_title", passwordForm{}))
}

func (p *Pages) forgot(w http.ResponseWriter, r *http.Request, c *call) {
	v := c.view("mail_page_forgot_title", passwordForm{})
	email := strings.TrimSpace(r.PostFormValue("email"))
	if email == "" || len(email) > maxEmail {
		v.Error = c.T("mail_page_email", nil)
		c.show(w, r, http.StatusBadRequest, "forgot", v)
		return
	}
	err := p.d.Passwords.Forgot(r.Context(), email, httpmw.ClientIP(r.Context()), c.loc.Tag().String())
	if code, _, isService := serviceError(err); err != nil {
		if isService && code == protocol.ErrRateLimited {
			v.Error = c.T("mail_page_rate_limited", nil)
			c.show(w, r, http.StatusTooManyRequests, "forgot", v)
			return
		}
		p.logger.ErrorContext(r.Context(), "page failed", "op", "password forgot", "error", err)
		v.Error = c.T("mail_page_failed", nil)
		c.show(w, r, http.StatusInternalServerError, "forgot", v)
		return
	}
	// The same answer whether or not an account has the email.
	v.Notice, v.Data = c.T("mail_page_forgot_sent", nil), passwordForm{Done: true}
	c.show(w, r, http.StatusOK, "forgot", v)
}

// maxToken bounds the reset token read from the link or the form.
const maxToken = 128

func (p *Pages) resetPage(w http.ResponseWriter, r *http.Request, c *call) {
	tok := r.URL.Query().Get("token")
	if tok == "" || len(tok) > maxToken {
		v := c.view("mail_page_reset_title", passwordForm{Done: true})
		v.Error = c.T("mail_page_reset_bad_token", nil)
		c.show(w, r, http.StatusBadRequest, "reset", v)
		return
	}
	c.show(w, r, http.StatusOK, "reset", c.view("mail_page_reset_title", passwordForm{Token: tok}))
}

func (p *Pages) reset(w http.ResponseWriter, r *http.Request, c *call) {
	f := passwordForm{Token: r.PostFormValue("token")}
	pw := r.PostFormValue("new_password")
	answer := func(status int, msg string, done bool) {
		f.Done = done
		v := c.view("mail_page_reset_title", f)
		v.Error = c.T(msg, nil)
		c.show(w, r, status, "reset", v)
	}
	if f.Token == "" || len(f.Token) > maxToken {
		answer(http.StatusBadRequest, "mail_page_reset_bad_token", true)
		return
	}
	if len(pw) < 8 || len(pw) > maxPassword {
		answer(http.StatusBadRequest, "mail_page_password_rule", false)
		return
	}
	if err := p.d.Passwords.Reset(r.Context(), f.Token, pw); err != nil {
		code, _, isService := serviceError(err)
		switch {
		case isService && code == protocol.ErrExpiredToken:
			answer(http.StatusBadRequest, "mail_page_reset_bad_token", true)
		case isService && code == protocol.ErrInvalidRequest:
			answer(http.StatusBadRequest, "mail_page_password_rule", false)
		default:
			p.logger.ErrorContext(r.Context(), "page failed", "op", "password reset", "error", err)
			answer(http.StatusInternalServerError, "mail_page_failed", false)
		}
		return
	}
	// Every session was revoked, this browser's included.
	http.SetCookie(w, p.cookie(p.session, "", -1))
	v := c.view("mail_page_reset_title", passwordForm{Done: true})
	v.User, v.Nav = nil, nil
	v.Notice = c.T("mail_page_reset_done", nil)
	c.show(w, r, http.StatusOK, "reset", v)
}
