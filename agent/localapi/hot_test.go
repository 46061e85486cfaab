package localapi

import (
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

// TestHotRouteMatchesEcho holds the entitlement fast path to the echo route
// it short-cuts: for every request, the complete handler (guard, fast path)
// and the guard over echo alone give the same status, headers and body.
func TestHotRouteMatchesEcho(t *testing.T) {
	eng := newScripted()
	exp := time.Unix(1800000000, 0).UTC()
	eng.ent.Store(&agentapi.Entitlement{Entitled: true, State: agentapi.StateActive, Reason: "licensed", Plan: "pro",
		Features: []string{"sign"}, LeaseExpiry: &exp, CheckedAt: time.Unix(1700000000, 0).UTC()})
	s, err := New(Options{Engine: eng, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	s.hosts.Store(allowedHosts(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242}))
	viaEcho := s.guard(s.echo)
	tests := []struct {
		name, method, target string
		header               map[string]string
		status               int
	}{
		{"general answer", "GET", agentapi.PathEntitlement, nil, 200},
		{"feature", "GET", agentapi.PathEntitlement + "?feature=sign", nil, 200},
		{"two features", "GET", agentapi.PathEntitlement + "?feature=a&feature=b", nil, 400},
		{"bad feature", "GET", agentapi.PathEntitlement + "?feature=%3Cscript%3E", nil, 400},
		{"other query", "GET", agentapi.PathEntitlement + "?x=1", nil, 200},
		{"forbidden host", "GET", agentapi.PathEntitlement, map[string]string{"Host": "evil.example:4242"}, 403},
		{"browser", "GET", agentapi.PathEntitlement, map[string]string{"Origin": "https://evil.example"}, 403},
		// Not the hot route (echo answers): HEAD where GET, 405 for another
		// method, 404 for an unknown path, all without a token.
		{"HEAD", "HEAD", agentapi.PathEntitlement, nil, 200},
		{"POST", "POST", agentapi.PathEntitlement, nil, 405},
		{"trailing slash", "GET", agentapi.PathEntitlement + "/", nil, 404},
		{"health", "GET", agentapi.PathHealth, nil, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			do := func(h http.Handler) *httptest.ResponseRecorder {
				r := httptest.NewRequest(tc.method, tc.target, nil)
				r.Host = "127.0.0.1:4242"
				for k, v := range tc.header {
					if k == "Host" {
						r.Host = v
						continue
					}
					r.Header.Set(k, v)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w
			}
			got, want := do(s.Handler()), do(viaEcho)
			if got.Code != want.Code || got.Body.String() != want.Body.String() || !reflect.DeepEqual(got.Header(), want.Header()) {
				t.Fatalf("fast path: %d %v %q\necho:      %d %v %q", got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
			}
			if got.Code != tc.status {
				t.Fatalf("status %d, want %d", got.Code, tc.status)
			}
		})
	}
	eng.ent.Store(nil)
	r := httptest.NewRequest("GET", agentapi.PathEntitlement, nil)
	r.Host = "127.0.0.1:4242"
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	if w.Code != agentapi.HTTPStatus(agentapi.ErrUnavailable) {
		t.Fatalf("engine starting: status %d %s", w.Code, w.Body)
	}
}

// BenchmarkEntitlementHandler measures the server side of GET
// /v1/entitlement in process (no sockets): the complete handler, the same
// guard over echo's router, and a bare handler writing the same bytes.
func BenchmarkEntitlementHandler(b *testing.B) {
	eng := newScripted()
	exp := time.Now().Add(24 * time.Hour).UTC()
	eng.ent.Store(&agentapi.Entitlement{Entitled: true, State: agentapi.StateActive, Reason: "licensed", Plan: "pro",
		Features: []string{"sign", "timestamp"}, MaxProfiles: 5, LicenseID: "lic_0123456789", LeaseExpiry: &exp,
		DeviceID: "dev_0123456789", Lease: string(make([]byte, 600)), CheckedAt: time.Now().UTC()})
	s, err := New(Options{Engine: eng, Token: testToken})
	if err != nil {
		b.Fatal(err)
	}
	s.hosts.Store(allowedHosts(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242}))
	ce, err := s.ent.get(eng.Entitlement(""), s.lang, 0)
	if err != nil {
		b.Fatal(err)
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = jsonContentType
		h["Content-Length"] = ce.length
		w.WriteHeader(200)
		_, _ = w.Write(ce.body)
	})
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"handler", s.Handler()}, {"guard+echo", s.guard(s.echo)}, {"bare", bare}} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", agentapi.PathEntitlement, nil)
			r.Host = "127.0.0.1:4242"
			w := &benchWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				bc.h.ServeHTTP(w, r)
			}
		})
	}
}

type benchWriter struct{ h http.Header }

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *benchWriter) WriteHeader(int)             {}
