package localapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/entitle/entitle/pkg/agentapi"
)

// maxLimiterEntries bounds the per-address failure table. Loopback has many
// addresses (127.0.0.0/8), so when the table is full of addresses that are
// still being limited, new addresses are limited too (fail closed).
const maxLimiterEntries = 1024

// authenticator checks the API token in constant time and limits failed
// attempts per remote address.
type authenticator struct {
	sum   [sha256.Size]byte // of the token: equal-length, constant-time comparison
	limit rate.Limit
	burst int
	now   func() time.Time

	mu    sync.Mutex
	fails map[string]*rate.Limiter
}

func newAuthenticator(token string, limit rate.Limit, burst int, now func() time.Time) *authenticator {
	return &authenticator{sum: sha256.Sum256([]byte(token)), limit: limit, burst: burst, now: now, fails: map[string]*rate.Limiter{}}
}

// presented returns the token a request carries, from agentapi.TokenHeader or
// "Authorization: Bearer". ok is false when both are present and differ.
func presented(h map[string][]string) (tok string, ok bool) {
	var hdr, bearer string
	if v := h[agentapi.TokenHeader]; len(v) > 0 {
		hdr = v[0]
	}
	if v := h["Authorization"]; len(v) > 0 {
		if scheme, rest, found := strings.Cut(v[0], " "); found && strings.EqualFold(scheme, "Bearer") {
			bearer = strings.TrimSpace(rest)
		} else {
			return "", false
		}
	}
	if hdr != "" && bearer != "" && hdr != bearer {
		return "", false
	}
	if hdr != "" {
		return hdr, true
	}
	return bearer, true
}

func (a *authenticator) valid(tok string) bool {
	sum := sha256.Sum256([]byte(tok))
	return tok != "" && subtle.ConstantTimeCompare(sum[:], a.sum[:]) == 1
}

// limited reports whether addr has used up its failures.
func (a *authenticator) limited(addr string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	l, ok := a.fails[addr]
	if !ok {
		return len(a.fails) >= maxLimiterEntries && !a.pruneLocked()
	}
	return l.TokensAt(a.now()) < 1
}

// fail records a failed attempt from addr.
func (a *authenticator) fail(addr string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	l, ok := a.fails[addr]
	if !ok {
		if len(a.fails) >= maxLimiterEntries && !a.pruneLocked() {
			return
		}
		l = rate.NewLimiter(a.limit, a.burst)
		a.fails[addr] = l
	}
	l.AllowN(a.now(), 1)
}

// pruneLocked forgets addresses whose budget has refilled and reports
// whether there is room for a new one.
func (a *authenticator) pruneLocked() bool {
	now := a.now()
	for k, l := range a.fails {
		if l.TokensAt(now) >= float64(a.burst) {
			delete(a.fails, k)
		}
	}
	return len(a.fails) < maxLimiterEntries
}

func remoteIP(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}

// requireToken is the middleware of the token-protected group.
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		ip := remoteIP(r.RemoteAddr)
		// The right token always passes, even from an address that failed
		// too often: the limiter must not let anyone sharing 127.0.0.1
		// lock the tray or the CLI out. It bounds what failures cost (log
		// lines, work); guessing is defeated by the token's 256 bits.
		tok, ok := presented(r.Header)
		if ok && s.auth.valid(tok) {
			return next(c)
		}
		if s.auth.limited(ip) {
			return &agentapi.Error{Code: agentapi.ErrRateLimited, Message: "too many failed token checks; wait and retry"}
		}
		s.auth.fail(ip)
		s.log.Info("local API token check failed", "remote", ip, "path", r.URL.Path, "token_present", tok != "")
		return &agentapi.Error{Code: agentapi.ErrUnauthorized, Message: "missing or wrong API token (" + agentapi.TokenHeader + " or Authorization: Bearer)"}
	}
}
