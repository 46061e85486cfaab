package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"unicode"
	"unicode/utf8"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/protocol"
)

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

// csrfToken is the token the page's forms carry: the session's once signed
// in, otherwise the browser's double-submit cookie (set here if missing).
func (p *Pages) csrfToken(w http.ResponseWriter, r *http.Request, c *call) string {
	if c.signedIn() {
		return sessionCSRF(c.token)
	}
	return p.preLoginCSRF(w, r)
}

// checkCSRF checks the posted token against the session (signed in) or the
// double-submit cookie (signed out).
func (p *Pages) checkCSRF(r *http.Request, c *call) bool {
	got := r.PostFormValue("csrf")
	if c.signedIn() {
		return tokensEqual(sessionCSRF(c.token), got)
	}
	ck, err := r.Cookie(p.csrf)
	return err == nil && tokensEqual(ck.Value, got)
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
	ck := p.cookie(p.csrf, tok, 0)
	ck.SameSite = http.SameSiteStrictMode
	http.SetCookie(w, ck)
	return tok
}

// codeTexts words the domains' error codes on the pages.
var codeTexts = map[string]string{
	protocol.ErrNotFound:           "web_code_not_found",
	protocol.ErrInvalidRequest:     "web_code_invalid_request",
	protocol.ErrRateLimited:        "web_code_rate_limited",
	protocol.ErrBusy:               "web_code_busy",
	protocol.ErrManagedRemotely:    "web_code_managed_remotely",
	protocol.ErrWorkspaceNameTaken: "web_code_workspace_name_taken",
	protocol.ErrLicenseInWorkspace: "web_code_license_in_workspace",
	adminapi.ErrAlreadyMember:      "org_err_already_member",
	adminapi.ErrLastOwner:          "org_err_last_owner",
	adminapi.ErrDomainNotApproved:  "org_err_domain_not_approved",
	adminapi.ErrDomainUnverified:   "org_err_domain_unverified",
	adminapi.ErrInvitationExpired:  "org_err_invitation_expired",
	adminapi.ErrInvitationUsed:     "org_err_invitation_used",
	adminapi.ErrForbidden:          "org_err_forbidden",
	adminapi.ErrInvitationMismatch: "org_err_invitation_mismatch",
	adminapi.ErrAccountExists:      "org_err_account_exists",
	adminapi.ErrSeatsAssigned:      "org_err_seats_assigned",
	adminapi.ErrOrderState:         "order_err_state",
	adminapi.ErrOrderEmpty:         "order_err_empty",
	adminapi.ErrPlanInactive:       "order_err_plan_inactive",
	adminapi.ErrCurrencyMismatch:   "order_err_currency",
	adminapi.ErrPlanCodeTaken:      "order_err_code_taken",
	protocol.ErrNoSeats:            "srv_err_no_seats",
}

// sentence starts s with a capital letter (the catalog's refusals are
// written to follow a colon on the command line).
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
