package localapi

import (
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/entitle/entitle/pkg/agentapi"
)

// Header values shared by every response. They are assigned directly into the
// header map (keys already canonical) because this runs on the hot path; the
// slices are never modified.
var securityHeaders = [...]struct {
	key string
	val []string
}{
	{"Cache-Control", []string{"no-store"}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"Content-Security-Policy", []string{"default-src 'none'; frame-ancestors 'none'"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Referrer-Policy", []string{"no-referrer"}},
}

// browserHeaders mark a request a web browser made (docs/threat-model.md,
// "the browser rule"):
//   - Sec-Fetch-Site: browsers add it to every request to a potentially
//     trustworthy URL, and http://127.0.0.1 and http://localhost are such URLs
//     (Fetch Metadata, W3C Secure Contexts); the value is user-controlled by
//     no page. HTTP libraries never send it.
//   - Origin: browsers add it to every CORS request and every POST, including
//     from browsers too old to send Sec-Fetch-*.
//   - Referer: most page-initiated loads carry it, also in old browsers.
//
// Sec-Fetch-Mode and Sec-Fetch-Dest are deliberately not in the list: a
// browser never sends them without Sec-Fetch-Site, while Node's fetch (undici,
// also Electron's main process) sends "Sec-Fetch-Mode: cors" on every request.
var browserHeaders = [...]string{"Sec-Fetch-Site", "Origin", "Referer"}

// guard wraps next with the checks every request passes, in this order.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverPanic(w, r)
		h := w.Header()
		for _, sh := range securityHeaders {
			h[sh.key] = sh.val
		}
		if !s.hostAllowed(r.Host) {
			writeError(w, &agentapi.Error{Code: agentapi.ErrForbidden, Message: "Host header is not a loopback name with this agent's port"})
			return
		}
		for _, k := range browserHeaders {
			if len(r.Header[k]) > 0 {
				writeError(w, &agentapi.Error{Code: agentapi.ErrForbidden, Message: "requests from web browsers are not accepted (" + k + " header)"})
				return
			}
		}
		if err := checkContentType(r); err != nil {
			writeError(w, err)
			return
		}
		if limit, ok := s.opts.BodyLimits[r.URL.Path]; ok {
			if r.ContentLength > limit {
				writeError(w, &agentapi.Error{Code: agentapi.ErrTooLarge, Message: "request body is over " + strconv.FormatInt(limit, 10) + " bytes"})
				return
			}
		} else if r.ContentLength > agentapi.MaxBodyBytes {
			writeError(w, errTooLarge)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) hostAllowed(host string) bool {
	hs := s.hosts.Load()
	if hs == nil {
		return false
	}
	return host == hs[0] || host == hs[1]
}

// checkContentType refuses "simple" requests a web page could send without a
// preflight (form and text/plain posts): a mutating request that has a body or
// names a content type must say application/json.
func checkContentType(r *http.Request) *agentapi.Error {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return nil
	}
	ct := r.Header["Content-Type"]
	if len(ct) == 0 && r.ContentLength == 0 {
		return nil
	}
	if len(ct) == 1 {
		if mt, _, err := mime.ParseMediaType(ct[0]); err == nil && mt == "application/json" {
			return nil
		}
	}
	return &agentapi.Error{Code: agentapi.ErrForbidden, Message: "requests with a body must have Content-Type: application/json"}
}

func (s *Server) recoverPanic(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
		panic(v)
	}
	s.log.Error("local API handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v)
	writeError(w, &agentapi.Error{Code: agentapi.ErrInternalError, Message: "internal error"})
}
