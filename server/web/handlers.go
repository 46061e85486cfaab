package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/deviceauth"
	"github.com/entitle/entitle/server/httpapi/httpmw"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/organizations"
)

const (
	maxEmail    = 254
	maxPassword = 1024
	maxUserCode = 32
)

// authRoutes are signing in and out and the device-authorization pages.
func (p *Pages) authRoutes() []route {
	return []route{
		{pattern: "GET /login", gate: anyone, h: p.loginPage},
		{pattern: "POST /login", gate: anyone, h: p.login},
		{pattern: "POST /logout", gate: person, h: p.logout},
		{pattern: "GET " + protocol.PathVerify, gate: anyone, h: p.devicePage},
		{pattern: "POST " + protocol.PathVerify + "/approve", gate: person, h: p.approve, signedOut: p.answerSignedOut},
		{pattern: "POST " + protocol.PathVerify + "/deny", gate: person, h: p.deny, signedOut: p.answerSignedOut},
	}
}

// normalizeCode accepts what people type: spaces, lower case.
func normalizeCode(s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if len(s) > maxUserCode {
		return ""
	}
	return s
}

func deviceURL(code string) string {
	if code == "" {
		return protocol.PathVerify
	}
	return protocol.PathVerify + "?user_code=" + url.QueryEscape(code)
}

// loginForm is the data of the sign-in page.
type loginForm struct {
	Email, UserCode string
	DeviceFlow      bool
	Invitation      string // an invitation token: back to its page after signing in
}

func (p *Pages) loginPage(w http.ResponseWriter, r *http.Request, c *call) {
	if c.signedIn() {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	f := loginForm{}
	if tok := r.URL.Query().Get("invitation"); len(tok) <= maxToken {
		f.Invitation = tok
	}
	c.show(w, r, http.StatusOK, "login", c.view("web_login_title", f))
}

// login signs in. Where to go next is decided by a fixed "flow" field, never
// a URL from the form, so the form cannot be turned into an open redirect.
func (p *Pages) login(w http.ResponseWriter, r *http.Request, c *call) {
	email, password := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("password")
	f := loginForm{Email: email, DeviceFlow: r.PostFormValue("flow") == "device", UserCode: normalizeCode(r.PostFormValue("user_code"))}
	if tok := r.PostFormValue("invitation"); r.PostFormValue("flow") == "invitation" && len(tok) <= maxToken {
		f.Invitation = tok
	}
	title := "web_login_title"
	if f.DeviceFlow {
		title = "web_device_title"
	}
	retry := func(status int, msg string) {
		v := c.view(title, f)
		v.User, v.Nav = nil, nil
		v.Error = c.T(msg, nil)
		c.show(w, r, status, "login", v)
	}
	if email == "" || password == "" || len(email) > maxEmail || len(password) > maxPassword {
		f.Email = ""
		retry(http.StatusBadRequest, "web_login_missing")
		return
	}
	acct, err := p.d.Accounts.Login(r.Context(), email, password, httpmw.ClientIP(r.Context()))
	if err != nil {
		code, _, ok := serviceError(err)
		switch {
		case ok && code == protocol.ErrRateLimited:
			retry(http.StatusTooManyRequests, "web_login_rate_limited")
		case ok && code == protocol.ErrBusy:
			w.Header().Set("Retry-After", "5")
			retry(http.StatusServiceUnavailable, "web_code_busy")
		case !ok || code == protocol.ErrInternal:
			c.fail(w, r, "login", err)
		default:
			retry(http.StatusUnauthorized, "web_login_wrong")
		}
		return
	}
	tok, err := p.d.Accounts.NewSession(r.Context(), acct.ID)
	if err != nil {
		c.fail(w, r, "new session", err)
		return
	}
	http.SetCookie(w, p.cookie(p.session, tok, 0))
	// The language the account chose follows it to this browser, unless
	// this browser chose one itself.
	if _, err := r.Cookie(i18n.CookieName); err != nil && acct.Locale != "" {
		i18n.RememberChoice(w, p.cat.Match(acct.Locale), p.secure)
	}
	next := "/account"
	switch {
	case f.DeviceFlow:
		next = deviceURL(f.UserCode)
	case f.Invitation != "":
		next = organizations.AcceptPath + "?token=" + url.QueryEscape(f.Invitation)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (p *Pages) logout(w http.ResponseWriter, r *http.Request, c *call) {
	if err := p.d.Accounts.EndSession(r.Context(), c.token); err != nil {
		c.fail(w, r, "end session", err)
		return
	}
	http.SetCookie(w, p.cookie(p.session, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// deviceView is the data of the device-authorization pages.
type deviceView struct {
	loginForm
	Info deviceauth.Info
}

// devicePage is where the verification URI leads: code entry, then sign-in
// if needed, then the confirmation showing which computer is asking.
func (p *Pages) devicePage(w http.ResponseWriter, r *http.Request, c *call) {
	code := normalizeCode(r.URL.Query().Get("user_code"))
	if !c.signedIn() {
		c.show(w, r, http.StatusOK, "login", c.view("web_device_title", loginForm{DeviceFlow: true, UserCode: code}))
		return
	}
	d := deviceView{loginForm: loginForm{UserCode: code}}
	if code == "" {
		c.show(w, r, http.StatusOK, "device_code", c.view("web_device_title", d))
		return
	}
	info, err := p.d.DeviceAuth.DeviceAuthInfo(r.Context(), code, httpmw.ClientIP(r.Context()))
	if err != nil {
		cd, _, ok := serviceError(err)
		if ok && cd == protocol.ErrRateLimited {
			p.tooManyCodes(w, r, c, "device_code", d)
			return
		}
		if ok && cd != protocol.ErrInternal {
			v := c.view("web_device_title", d)
			v.Error = c.T("web_device_bad_code", nil)
			c.show(w, r, http.StatusNotFound, "device_code", v)
			return
		}
		c.fail(w, r, "device auth info", err)
		return
	}
	if info.Status != "" && info.Status != "pending" {
		id := "web_device_answered_denied"
		if info.Status == "approved" {
			id = "web_device_answered_approved"
		}
		c.message(w, r, http.StatusConflict, "web_device_title", id, nil)
		return
	}
	d.Info = info
	c.show(w, r, http.StatusOK, "device_confirm", c.view("web_device_confirm_title", d))
}

func (p *Pages) approve(w http.ResponseWriter, r *http.Request, c *call) { p.answer(w, r, c, true) }
func (p *Pages) deny(w http.ResponseWriter, r *http.Request, c *call)    { p.answer(w, r, c, false) }

// answerSignedOut: the session ended between the pages: start the flow
// again with the code kept, so the person only signs in once more.
func (p *Pages) answerSignedOut(w http.ResponseWriter, r *http.Request) {
	code := ""
	if parseForm(w, r) {
		code = normalizeCode(r.PostFormValue("user_code"))
	}
	http.Redirect(w, r, deviceURL(code), http.StatusSeeOther)
}

func (p *Pages) answer(w http.ResponseWriter, r *http.Request, c *call, approve bool) {
	code := normalizeCode(r.PostFormValue("user_code"))
	if code == "" {
		c.message(w, r, http.StatusBadRequest, "web_device_title", "web_device_no_code", nil)
		return
	}
	var err error
	ip := httpmw.ClientIP(r.Context())
	if approve {
		err = p.d.DeviceAuth.ApproveDeviceAuth(r.Context(), code, c.acct.ID, ip)
	} else {
		err = p.d.DeviceAuth.DenyDeviceAuth(r.Context(), code, c.acct.ID, ip)
	}
	if err != nil {
		cd, _, ok := serviceError(err)
		if ok && cd == protocol.ErrRateLimited {
			p.tooManyCodes(w, r, c, "message", nil)
			return
		}
		if ok && cd != protocol.ErrInternal {
			v := c.view("web_device_not_activated", nil)
			v.Data = c.codeText(cd)
			c.show(w, r, httpStatus(cd), "message", v)
			return
		}
		c.fail(w, r, "answer device auth", err)
		return
	}
	if approve {
		c.message(w, r, http.StatusOK, "web_device_approved_title", "web_device_approved_body", nil)
		return
	}
	c.message(w, r, http.StatusOK, "web_device_denied_title", "web_device_denied_body", nil)
}

// tooManyCodesRetry is the Retry-After of tooManyCodes, in seconds: about
// when the default limit lets one more code through.
const tooManyCodesRetry = "60"

// tooManyCodes answers 429 when the client's address has entered too many
// codes that match no computer, on the code form or as a message page.
func (p *Pages) tooManyCodes(w http.ResponseWriter, r *http.Request, c *call, name string, d any) {
	w.Header().Set("Retry-After", tooManyCodesRetry)
	v := c.view("web_device_title", d)
	msg := c.T("web_device_too_many", nil)
	if name == "message" {
		v.Data = msg
	} else {
		v.Error = msg
	}
	c.show(w, r, http.StatusTooManyRequests, name, v)
}

// serviceError extracts the classified error of a server domain.
func serviceError(err error) (code, msg string, ok bool) {
	var le *fault.Error
	if errors.As(err, &le) {
		return le.Code, le.Message, true
	}
	return "", "", false
}
