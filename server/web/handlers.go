package web

import (
	"errors"
	"github.com/entitle/entitle/pkg/paging"
	"net/http"
	"net/url"
	"strings"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi/httpmw"
	"github.com/entitle/entitle/server/internal/fault"
)

const (
	maxEmail    = 254
	maxPassword = 1024
	maxUserCode = 32
)

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

func (p *Pages) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := p.signedIn(r); ok {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	p.render(w, r, http.StatusOK, "login", page{Title: "Sign in", CSRF: p.preLoginCSRF(w, r)})
}

// login signs in. Where to go next is decided by a fixed "flow" field, never
// a URL from the form, so the form cannot be turned into an open redirect.
func (p *Pages) login(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		p.forbidden(w, r)
		return
	}
	c, err := r.Cookie(p.csrf)
	if err != nil || !tokensEqual(c.Value, r.PostFormValue("csrf")) {
		p.forbidden(w, r)
		return
	}
	email, password := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("password")
	device := r.PostFormValue("flow") == "device"
	code := normalizeCode(r.PostFormValue("user_code"))
	retry := page{Title: "Sign in", CSRF: c.Value, FormEmail: email, DeviceFlow: device, UserCode: code}
	if email == "" || password == "" || len(email) > maxEmail || len(password) > maxPassword {
		retry.FormEmail = ""
		retry.Error = "Enter your email and password."
		p.render(w, r, http.StatusBadRequest, "login", retry)
		return
	}
	acct, err := p.d.Accounts.Login(r.Context(), email, password, httpmw.ClientIP(r.Context()))
	if err != nil {
		status, msg := http.StatusUnauthorized, "The email or password is not correct."
		code, _, ok := serviceError(err)
		switch {
		case ok && code == protocol.ErrRateLimited:
			status, msg = http.StatusTooManyRequests, "Too many sign-in attempts. Wait a few minutes and try again."
		case !ok || code == protocol.ErrInternal:
			p.serverError(w, r, "login", err)
			return
		}
		retry.Error = msg
		p.render(w, r, status, "login", retry)
		return
	}
	tok, err := p.d.Accounts.NewSession(r.Context(), acct.ID)
	if err != nil {
		p.serverError(w, r, "new session", err)
		return
	}
	http.SetCookie(w, p.cookie(p.session, tok, 0))
	next := "/account"
	if device {
		next = deviceURL(code)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (p *Pages) logout(w http.ResponseWriter, r *http.Request) {
	_, tok, ok := p.signedIn(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if !parseForm(w, r) || !tokensEqual(sessionCSRF(tok), r.PostFormValue("csrf")) {
		p.forbidden(w, r)
		return
	}
	if err := p.d.Accounts.EndSession(r.Context(), tok); err != nil {
		p.serverError(w, r, "end session", err)
		return
	}
	http.SetCookie(w, p.cookie(p.session, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// accountDevicesPage is how many computers the account page shows at once.
const accountDevicesPage = 100

func (p *Pages) accountPage(w http.ResponseWriter, r *http.Request) {
	acct, tok, ok := p.signedIn(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	ls, err := p.d.Licenses.ListLicenses(r.Context(), acct.ID)
	if err != nil {
		p.serverError(w, r, "list licenses", err)
		return
	}
	// The computers come a page at a time (?devices=<cursor>); a cursor
	// that is not one the server issued shows the first page.
	cursor := r.URL.Query().Get("devices")
	dp, err := p.d.Devices.PageDevices(r.Context(), acct.ID, paging.Request{Limit: accountDevicesPage, Cursor: cursor})
	if code, _, ok := serviceError(err); ok && code == protocol.ErrInvalidRequest {
		cursor = ""
		dp, err = p.d.Devices.PageDevices(r.Context(), acct.ID, paging.Request{Limit: accountDevicesPage})
	}
	if err != nil {
		p.serverError(w, r, "list devices", err)
		return
	}
	d := page{Title: "Your licenses", Email: acct.Email, CSRF: sessionCSRF(tok), Licenses: ls, Devices: dp.Items,
		DevicesTotal: dp.Total, DevicesNext: dp.NextCursor, DevicesPaged: cursor != ""}
	if r.URL.Query().Get("released") == "1" {
		d.Notice = "The computer was released; its seat is free."
	}
	p.render(w, r, http.StatusOK, "account", d)
}

func (p *Pages) release(w http.ResponseWriter, r *http.Request) {
	acct, tok, ok := p.signedIn(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if !parseForm(w, r) || !tokensEqual(sessionCSRF(tok), r.PostFormValue("csrf")) {
		p.forbidden(w, r)
		return
	}
	id := r.PathValue("id")
	if err := p.d.Devices.ReleaseDevice(r.Context(), acct.ID, id); err != nil {
		if code, msg, ok := serviceError(err); ok && code != protocol.ErrInternal {
			p.message(w, r, protocol.HTTPStatus(code), "Could not release the computer", msg, page{Email: acct.Email, CSRF: sessionCSRF(tok)})
			return
		}
		p.serverError(w, r, "release device", err)
		return
	}
	if p.d.Nudge != nil {
		p.d.Nudge.Notify(r.Context(), id) // an online computer learns it at once
	}
	http.Redirect(w, r, "/account?released=1", http.StatusSeeOther)
}

// devicePage is where the verification URI leads: code entry, then sign-in
// if needed, then the confirmation showing which computer is asking.
func (p *Pages) devicePage(w http.ResponseWriter, r *http.Request) {
	code := normalizeCode(r.URL.Query().Get("user_code"))
	acct, tok, ok := p.signedIn(r)
	if !ok {
		p.render(w, r, http.StatusOK, "login", page{
			Title: "Activate a computer", CSRF: p.preLoginCSRF(w, r), DeviceFlow: true, UserCode: code,
		})
		return
	}
	d := page{Title: "Activate a computer", Email: acct.Email, CSRF: sessionCSRF(tok), UserCode: code}
	if code == "" {
		p.render(w, r, http.StatusOK, "device_code", d)
		return
	}
	info, err := p.d.DeviceAuth.DeviceAuthInfo(r.Context(), code, httpmw.ClientIP(r.Context()))
	if err != nil {
		c, _, ok := serviceError(err)
		if ok && c == protocol.ErrRateLimited {
			p.tooManyCodes(w, r, "device_code", d)
			return
		}
		if ok && c != protocol.ErrInternal {
			d.Error = "That code is not valid or has expired. Check the code on the computer, or start again there."
			p.render(w, r, http.StatusNotFound, "device_code", d)
			return
		}
		p.serverError(w, r, "device auth info", err)
		return
	}
	if info.Status != "" && info.Status != "pending" {
		p.message(w, r, http.StatusConflict, "Activate a computer", "This request was already answered ("+info.Status+").", d)
		return
	}
	d.Title = "Approve this computer?"
	d.Info = info
	p.render(w, r, http.StatusOK, "device_confirm", d)
}

func (p *Pages) approve(w http.ResponseWriter, r *http.Request) { p.answer(w, r, true) }
func (p *Pages) deny(w http.ResponseWriter, r *http.Request)    { p.answer(w, r, false) }

func (p *Pages) answer(w http.ResponseWriter, r *http.Request, approve bool) {
	acct, tok, ok := p.signedIn(r)
	if !ok {
		// The session ended between the pages: start the flow again with the
		// code kept, so the person only signs in once more.
		code := ""
		if parseForm(w, r) {
			code = normalizeCode(r.PostFormValue("user_code"))
		}
		http.Redirect(w, r, deviceURL(code), http.StatusSeeOther)
		return
	}
	if !parseForm(w, r) || !tokensEqual(sessionCSRF(tok), r.PostFormValue("csrf")) {
		p.forbidden(w, r)
		return
	}
	code := normalizeCode(r.PostFormValue("user_code"))
	d := page{Email: acct.Email, CSRF: sessionCSRF(tok)}
	if code == "" {
		p.message(w, r, http.StatusBadRequest, "Activate a computer", "The code is missing.", d)
		return
	}
	var err error
	ip := httpmw.ClientIP(r.Context())
	if approve {
		err = p.d.DeviceAuth.ApproveDeviceAuth(r.Context(), code, acct.ID, ip)
	} else {
		err = p.d.DeviceAuth.DenyDeviceAuth(r.Context(), code, acct.ID, ip)
	}
	if err != nil {
		c, msg, ok := serviceError(err)
		if !ok || c == protocol.ErrInternal {
			p.serverError(w, r, "answer device auth", err)
			return
		}
		if c == protocol.ErrRateLimited {
			d.Title = "Activate a computer"
			p.tooManyCodes(w, r, "message", d)
			return
		}
		p.message(w, r, protocol.HTTPStatus(c), "The computer was not activated", msg, d)
		return
	}
	if approve {
		p.message(w, r, http.StatusOK, "Computer approved", "The computer is being activated. You can close this window and return to it.", d)
		return
	}
	p.message(w, r, http.StatusOK, "Request denied", "The computer was not activated.", d)
}

// tooManyCodesRetry is the Retry-After of tooManyCodes, in seconds: about
// when the default limit lets one more code through.
const tooManyCodesRetry = "60"

// tooManyCodes answers 429 when the client's address has entered too many
// codes that match no computer, on the code form or as a message page.
func (p *Pages) tooManyCodes(w http.ResponseWriter, r *http.Request, name string, d page) {
	const msg = "Too many codes that do not match a computer were entered from your network. Wait a few minutes, then enter the code shown on the computer again."
	w.Header().Set("Retry-After", tooManyCodesRetry)
	if name == "message" {
		d.Body = msg
	} else {
		d.Error = msg
	}
	p.render(w, r, http.StatusTooManyRequests, name, d)
}

// serviceError extracts the classified error of a server domain.
func serviceError(err error) (code, msg string, ok bool) {
	var le *fault.Error
	if errors.As(err, &le) {
		return le.Code, le.Message, true
	}
	return "", "", false
}
