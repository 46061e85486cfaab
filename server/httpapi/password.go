package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/server/httpapi/httpmw"
)

// Passwords is the part of *passwordreset.Service the API uses.
type Passwords interface {
	Forgot(ctx context.Context, email, clientIP, locale string) error
	Reset(ctx context.Context, token, newPassword string) error
}

func (s *Server) registerPasswords() {
	if s.d.Passwords == nil {
		return
	}
	s.handle("POST "+accountapi.PathPasswordForgot, s.passwordForgot)
	s.handle("POST "+accountapi.PathPasswordReset, s.passwordReset)
}

// maxLocale bounds the Accept-Language kept for the mail's language.
const maxLocale = 35

func (s *Server) passwordForgot(w http.ResponseWriter, r *http.Request) {
	var req accountapi.PasswordForgotRequest
	if !decodeValid(w, r, &req) {
		return
	}
	// The reader's first language names the mail's; the catalog matches it.
	locale, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	locale, _, _ = strings.Cut(strings.TrimSpace(locale), ";")
	if len(locale) > maxLocale {
		locale = ""
	}
	if err := s.d.Passwords.Forgot(r.Context(), req.Email, httpmw.ClientIP(r.Context()), locale); err != nil {
		s.failure(w, r, "password forgot", err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
}

func (s *Server) passwordReset(w http.ResponseWriter, r *http.Request) {
	var req accountapi.PasswordResetRequest
	if !decodeValid(w, r, &req) {
		return
	}
	if err := s.d.Passwords.Reset(r.Context(), req.Token, req.NewPassword); err != nil {
		s.failure(w, r, "password reset", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
