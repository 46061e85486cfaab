package web

import (
	"net/http"
)

// The page an invitation mail links to (organizations.AcceptPath): signed
// in with the invited address, one button joins; signed out, the invitee
// sets a password (a new account) or signs in first.

type acceptForm struct {
	Token string
}

func (p *Pages) acceptPage(w http.ResponseWriter, r *http.Request, c *call) {
	tok := r.URL.Query().Get("token")
	if tok == "" || len(tok) > maxToken {
		c.message(w, r, http.StatusBadRequest, "web_accept_title", "org_err_invitation_used", nil)
		return
	}
	c.show(w, r, http.StatusOK, "accept", c.view("web_accept_title", acceptForm{Token: tok}))
}

func (p *Pages) accept(w http.ResponseWriter, r *http.Request, c *call) {
	tok, pw := r.PostFormValue("token"), r.PostFormValue("password")
	if tok == "" || len(tok) > maxToken || len(pw) > maxPassword {
		c.message(w, r, http.StatusBadRequest, "web_accept_title", "web_code_invalid_request", nil)
		return
	}
	if !c.signedIn() && len(pw) < 8 {
		v := c.view("web_accept_title", acceptForm{Token: tok})
		v.Error = c.T("mail_page_password_rule", nil)
		c.show(w, r, http.StatusBadRequest, "accept", v)
		return
	}
	acc, err := p.d.Organizations.Accept(r.Context(), tok, pw, c.acct.ID)
	if err != nil {
		c.fail(w, r, "accept invitation", err)
		return
	}
	// Accepting signs in (the session is part of the one journaled change).
	http.SetCookie(w, p.cookie(p.session, acc.Token, 0))
	http.Redirect(w, r, "/account?joined=1", http.StatusSeeOther)
}
