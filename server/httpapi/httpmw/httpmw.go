// Package httpmw holds the licensing server's HTTP middleware: small
// http.Handler wrappers shared by the JSON API and the web pages, so both get
// the same request ids, client-IP rules, access log, metrics and headers.
package httpmw

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"runtime/debug"
	"strings"
	"time"
)

// Info is what the middleware learns about a request. One Info is created per
// request by Identify and shared by pointer, so the route that the mux matches
// deep inside the chain is visible to the log and metrics wrappers outside it.
type Info struct {
	ID       string
	ClientIP netip.Addr
	Route    string // the ServeMux pattern, "" when nothing matched
	Start    time.Time
}

type infoKey struct{}

// FromContext returns the request's Info, or a zero Info if the request did not
// pass through Identify (direct handler tests).
func FromContext(ctx context.Context) *Info {
	if in, ok := ctx.Value(infoKey{}).(*Info); ok {
		return in
	}
	return &Info{}
}

// ClientIP returns the client address decided by Identify as a string ("" if
// unknown), the form rate limiters key on.
func ClientIP(ctx context.Context) string {
	ip := FromContext(ctx).ClientIP
	if !ip.IsValid() {
		return ""
	}
	return ip.String()
}

// TrustedProxies decides when X-Forwarded-For may be believed: only when the
// connection comes from one of these networks (the load balancers).
type TrustedProxies []netip.Prefix

// ParseTrustedProxies parses a list of IP addresses and CIDR prefixes.
func ParseTrustedProxies(list []string) (TrustedProxies, error) {
	var out TrustedProxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (tp TrustedProxies) contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range tp {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// maxForwardedHops bounds the X-Forwarded-For walk so a forged header with
// thousands of entries costs nothing.
const maxForwardedHops = 16

// Resolve returns the client address for a connection from remote carrying
// the given X-Forwarded-For values. The header is walked right to left (the
// entries our own proxies appended) and the first address that is not a
// trusted proxy is the client; anything further left was written by the client
// and is ignored.
func (tp TrustedProxies) Resolve(remoteAddr string, xff []string) netip.Addr {
	remote := parseHostAddr(remoteAddr)
	if !remote.IsValid() || len(tp) == 0 || !tp.contains(remote) {
		return remote
	}
	var hops []string
	for _, h := range xff {
		hops = append(hops, strings.Split(h, ",")...)
	}
	client := remote
	for i, n := len(hops)-1, 0; i >= 0 && n < maxForwardedHops; i, n = i-1, n+1 {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		client = a.Unmap()
		if !tp.contains(client) {
			break
		}
	}
	return client
}

func parseHostAddr(hostport string) netip.Addr {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Identify gives each request an Info: a request id (the X-Request-ID of a
// trusted proxy when well formed, so one id follows a request through the load
// balancer, otherwise a new random one) and the client IP.
func Identify(proxies TrustedProxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := &Info{Start: time.Now(), ClientIP: proxies.Resolve(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))}
		if id := r.Header.Get("X-Request-ID"); requestIDPattern.MatchString(id) && proxies.contains(parseHostAddr(r.RemoteAddr)) {
			in.ID = id
		} else {
			in.ID = newID()
		}
		w.Header().Set("X-Request-ID", in.ID)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey{}, in)))
	})
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// CaptureRoute must wrap the ServeMux directly: the mux writes the matched
// pattern into the *Request it is handed, and this wrapper copies it into the
// shared Info for the outer wrappers.
func CaptureRoute(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Deferred so the route is known even when the handler panics.
		defer func() { FromContext(r.Context()).Route = r.Pattern }()
		mux.ServeHTTP(w, r)
	})
}

// StatusWriter records the status and size of a response.
type StatusWriter struct {
	http.ResponseWriter
	Status int
	Bytes  int64
}

// WriteHeader records the status.
func (s *StatusWriter) WriteHeader(code int) {
	if s.Status == 0 {
		s.Status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and the size.
func (s *StatusWriter) Write(b []byte) (int, error) {
	if s.Status == 0 {
		s.Status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.Bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer (flush, deadlines).
func (s *StatusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *StatusWriter) code() int {
	if s.Status == 0 {
		return http.StatusOK
	}
	return s.Status
}

func wrapStatus(w http.ResponseWriter) *StatusWriter {
	if sw, ok := w.(*StatusWriter); ok {
		return sw
	}
	return &StatusWriter{ResponseWriter: w}
}

// Recover turns a panic into a 500 so one bad request never takes the server
// down. http.ErrAbortHandler is re-raised: it is net/http's own way to abort.
func Recover(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := wrapStatus(w)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			logger.ErrorContext(r.Context(), "panic in handler",
				"request_id", FromContext(r.Context()).ID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw.Status == 0 {
				sw.Header().Set("Content-Type", "application/json")
				sw.WriteHeader(http.StatusInternalServerError)
				_, _ = sw.Write([]byte(`{"error":"internal","message":"internal server error"}` + "\n"))
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// SecurityHeaders sets restrictive defaults for every response. The API serves
// only JSON, so the default CSP forbids everything; the web pages replace it
// with their own policy.
func SecurityHeaders(hsts bool, next http.Handler) http.Handler {
	// The values are built once and shared by every response: Header.Set
	// and Del replace a value, never write into it. A handler may still
	// override any of them.
	set := []struct {
		key string
		v   []string
	}{
		{"X-Content-Type-Options", []string{"nosniff"}},
		{"X-Frame-Options", []string{"DENY"}},
		{"Referrer-Policy", []string{"no-referrer"}},
		{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
		{"Content-Security-Policy", []string{"default-src 'none'; frame-ancestors 'none'; base-uri 'none'"}},
		{"Cache-Control", []string{"no-store"}},
	}
	if hsts {
		set = append(set, struct {
			key string
			v   []string
		}{"Strict-Transport-Security", []string{"max-age=31536000"}})
	}
	for i := range set {
		set[i].key = http.CanonicalHeaderKey(set[i].key)
		set[i].v = set[i].v[:1:1] // an append by a handler copies
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, kv := range set {
			h[kv.key] = kv.v
		}
		next.ServeHTTP(w, r)
	})
}
