package localapi

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

// headerWriter is the least http.ResponseWriter: a header map kept across
// requests (cleared), a discarded body.
type headerWriter struct {
	h    http.Header
	code int
}

func (w *headerWriter) Header() http.Header         { return w.h }
func (w *headerWriter) WriteHeader(code int)        { w.code = code }
func (w *headerWriter) Write(b []byte) (int, error) { return len(b), nil }

// TestHotRouteAllocatesNothing: the general entitlement answer, in English
// and (once matched) in French, is served under the guard without a heap
// allocation of its own, so under load the agent's hot path adds no
// garbage to net/http's.
func TestHotRouteAllocatesNothing(t *testing.T) {
	eng := newScripted()
	exp := time.Unix(1800000000, 0).UTC()
	eng.ent.Store(&agentapi.Entitlement{Entitled: true, State: agentapi.StateActive, Reason: "licensed", ReasonCode: agentapi.ReasonLicensedNoEnd,
		ReasonArgs: agentapi.ReasonArgs{"plan": "pro"}, Plan: "pro", Features: []string{"sign"}, LeaseExpiry: &exp, CheckedAt: time.Unix(1700000000, 0).UTC()})
	s, err := New(Options{Engine: eng, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	s.hosts.Store(allowedHosts(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242}))
	h := s.Handler()
	for _, accept := range []string{"", "fr-FR,fr;q=0.9"} {
		r := httptest.NewRequest("GET", agentapi.PathEntitlement, nil)
		r.Host = "127.0.0.1:4242"
		if accept != "" {
			r.Header.Set("Accept-Language", accept)
		}
		w := &headerWriter{h: http.Header{}}
		serve := func() {
			clear(w.h)
			h.ServeHTTP(w, r)
		}
		serve() // fills the caches
		if w.code != 200 {
			t.Fatalf("status %d", w.code)
		}
		if n := testing.AllocsPerRun(1000, serve); n != 0 {
			t.Errorf("Accept-Language %q: %.1f allocations per answer, want 0", accept, n)
		}
	}
}

// TestFastReplyAllocatesNothing: the fast path reads a request and writes
// its answer, in English and (once matched) in French, without a heap
// allocation once its reply buffer has grown.
func TestFastReplyAllocatesNothing(t *testing.T) {
	eng := newScripted()
	eng.ent.Store(entitlementWithLease(600))
	s, err := New(Options{Engine: eng, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	s.hosts.Store(allowedHosts(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242}))
	now := time.Unix(1800000000, 0)
	for _, accept := range []string{"", "fr-FR,fr;q=0.9"} {
		req := "GET /v1/entitlement HTTP/1.1\r\nHost: 127.0.0.1:4242\r\nUser-Agent: signer\r\n"
		if accept != "" {
			req += "Accept-Language: " + accept + "\r\n"
		}
		buf := []byte(req + "\r\n")
		var out []byte
		reply := func() {
			n, r, ok := s.fastReply(buf, out[:0], now)
			if !ok || n != len(buf) {
				t.Fatalf("not taken (%d of %d bytes)", n, len(buf))
			}
			out = r
		}
		reply() // fills the caches and the buffer
		if n := testing.AllocsPerRun(1000, reply); n != 0 {
			t.Errorf("Accept-Language %q: %.1f allocations per answer, want 0", accept, n)
		}
	}
}
