package httpapi

import (
	"net/http"
	"strings"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/organizations"
)

// principalHandler is a route handler that runs once authz allowed its
// caller.
type principalHandler func(w http.ResponseWriter, r *http.Request, p authz.Principal)

// handleAs registers a route whose callers the authz route table names: the
// principal is resolved from the bearer token (a session or an operator
// token) and the {org} path value, and refused before h runs with 401 (no
// valid credential), 404 (not a member of {org}: its existence is not
// revealed) or 403 (a role too low). A route missing from the table is a
// programming error.
func (s *Server) handleAs(pattern string, h principalHandler) {
	access, ok := authz.Lookup(pattern)
	if !ok {
		panic("httpapi: route " + pattern + " is not in the authz route table")
	}
	s.handle(pattern, func(w http.ResponseWriter, r *http.Request) {
		p, anonymous, err := s.principal(r, access)
		if err != nil {
			s.failure(w, r, "resolve principal", err)
			return
		}
		switch authz.Decide(access, p, anonymous) {
		case authz.Unauthenticated:
			writeError(w, apiError(protocol.ErrInvalidCredentials, "sign in first: missing, expired or unknown bearer token"))
			return
		case authz.Hidden:
			writeError(w, apiError(protocol.ErrNotFound, "no such organization"))
			return
		case authz.Forbidden:
			writeError(w, apiError(adminapi.ErrForbidden, "your role does not allow this"))
			return
		}
		h(w, r, p)
	})
}

// principal resolves who is calling. A route open to anyone resolves no
// credential (anonymous stays true); an invalid token is anonymous.
func (s *Server) principal(r *http.Request, access authz.Access) (p authz.Principal, anonymous bool, err error) {
	if access == authz.Public || access == authz.Device || access == authz.Web {
		return authz.Principal{}, true, nil
	}
	tok, ok := bearer(r)
	if !ok {
		return authz.Principal{}, true, nil
	}
	ctx := r.Context()
	if organizations.IsOperatorToken(tok) {
		id, err := s.d.Orgs.OperatorTokenID(ctx, tok)
		if err != nil {
			return authz.Principal{}, true, ignoreCredential(err)
		}
		return authz.Principal{Operator: true, TokenID: id, OrgID: r.PathValue("org")}, false, nil
	}
	acct, err := s.d.Accounts.SessionAccount(ctx, tok)
	if err != nil {
		return authz.Principal{}, true, ignoreCredential(err)
	}
	p = authz.Principal{AccountID: acct.ID}
	if org := r.PathValue("org"); org != "" && access.OrgScoped() {
		role, err := s.d.Orgs.Role(ctx, org, acct.ID)
		if err != nil {
			return authz.Principal{}, false, err
		}
		if role != authz.RoleNone {
			p.OrgID, p.Role = org, role
		}
	}
	return p, false, nil
}

// ignoreCredential turns a refused credential into "anonymous" (nil) and
// passes other errors on.
func ignoreCredential(err error) error {
	if pe, ok := ServiceError(err); ok && pe.Code == protocol.ErrInvalidCredentials {
		return nil
	}
	return err
}

// requestLocale is the first language of Accept-Language, bounded, or "".
func requestLocale(r *http.Request) string {
	h := r.Header.Get("Accept-Language")
	tag, _, _ := strings.Cut(h, ",")
	tag, _, _ = strings.Cut(tag, ";")
	tag = strings.TrimSpace(tag)
	if tag == "*" || len(tag) > adminapi.MaxLocale {
		return ""
	}
	for _, c := range tag {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return ""
		}
	}
	return tag
}
