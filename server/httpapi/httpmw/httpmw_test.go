package httpmw

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestResolveClientIP(t *testing.T) {
	proxies, err := ParseTrustedProxies([]string{"10.0.0.0/8", " 192.0.2.7 ", "", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		proxies TrustedProxies
		remote  string
		xff     []string
		want    string
	}{
		{"no proxies configured ignores header", nil, "203.0.113.5:4000", []string{"1.2.3.4"}, "203.0.113.5"},
		{"untrusted peer cannot forge", proxies, "203.0.113.5:4000", []string{"1.2.3.4"}, "203.0.113.5"},
		{"trusted peer, one hop", proxies, "10.1.2.3:4000", []string{"198.51.100.9"}, "198.51.100.9"},
		{"client-written entries left of the real client are ignored", proxies, "10.1.2.3:4000", []string{"6.6.6.6, 198.51.100.9"}, "198.51.100.9"},
		{"chain of trusted proxies", proxies, "10.1.2.3:4000", []string{"198.51.100.9, 192.0.2.7", "10.9.9.9"}, "198.51.100.9"},
		{"garbage stops the walk at the last good hop", proxies, "10.1.2.3:4000", []string{"nonsense, 10.2.2.2"}, "10.2.2.2"},
		{"trusted peer without header", proxies, "10.1.2.3:4000", nil, "10.1.2.3"},
		{"ipv6 proxy", proxies, "[2001:db8::1]:443", []string{"2001:db8:ffff::1, 2a00::5"}, "2a00::5"},
		{"mapped ipv4 peer", proxies, "[::ffff:10.0.0.1]:1", []string{"198.51.100.1"}, "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.proxies.Resolve(tt.remote, tt.xff).String(); got != tt.want {
				t.Fatalf("Resolve = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseTrustedProxiesRejectsGarbage(t *testing.T) {
	for _, in := range []string{"10.0.0.0/33", "not-an-ip", "1.2.3"} {
		t.Run(in, func(t *testing.T) {
			if _, err := ParseTrustedProxies([]string{in}); err == nil {
				t.Fatalf("ParseTrustedProxies(%q) succeeded", in)
			}
		})
	}
}

func TestIdentifyRequestID(t *testing.T) {
	proxies, _ := ParseTrustedProxies([]string{"10.0.0.1"})
	var seen string
	h := Identify(proxies, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = FromContext(r.Context()).ID
	}))
	tests := []struct {
		name, remote, id string
		keep             bool
	}{
		{"trusted proxy id is kept", "10.0.0.1:5", "abc-123", true},
		{"untrusted id is replaced", "203.0.113.1:5", "abc-123", false},
		{"malformed id is replaced", "10.0.0.1:5", "bad id\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			r.Header.Set("X-Request-ID", tt.id)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if (seen == tt.id) != tt.keep {
				t.Fatalf("request id %q (incoming %q), keep=%v", seen, tt.id, tt.keep)
			}
			if len(seen) == 0 || w.Header().Get("X-Request-ID") != seen {
				t.Fatalf("response X-Request-ID %q, context %q", w.Header().Get("X-Request-ID"), seen)
			}
		})
	}
}

// chain builds the same order the server uses, around a tiny mux.
func chain(logger *slog.Logger, m *Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "fine") })
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("kaboom") })
	var h http.Handler = CaptureRoute(mux)
	h = SecurityHeaders(true, h)
	h = Recover(logger, h)
	h = m.Middleware(h)
	h = AccessLog(logger, h)
	return Identify(nil, h)
}

func TestChainLogsMetricsRecover(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	m := NewMetrics()
	h := chain(logger, m)

	tests := []struct {
		name, path string
		status     int
		route      string
	}{
		{"matched route", "/ok/42?user_code=SECRETCODE", 200, "GET /ok/{id}"},
		{"panic becomes 500", "/boom", 500, "GET /boom"},
		{"unmatched", "/nope", 404, "unmatched"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			r := httptest.NewRequest("GET", tt.path, nil)
			r.Header.Set("Authorization", "Bearer TOPSECRETTOKEN")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("Strict-Transport-Security") == "" {
				t.Fatalf("security headers missing: %v", w.Header())
			}
			got := counter(t, m, "entitle_http_requests_total", map[string]string{"route": tt.route, "method": "GET", "status": strconv.Itoa(tt.status)})
			if got != 1 {
				t.Fatalf("requests{route=%q,status=%d} = %v, want 1", tt.route, tt.status, got)
			}
			out := logs.String()
			if strings.Contains(out, "TOPSECRETTOKEN") || strings.Contains(out, "SECRETCODE") {
				t.Fatalf("log leaks a secret: %s", out)
			}
			if !strings.Contains(out, `"status":`+strconv.Itoa(tt.status)) || !strings.Contains(out, `"method":"GET"`) {
				t.Fatalf("access log lacks status/method: %s", out)
			}
		})
	}
}

// counter reads one sample from the registry the way a scrape would.
func counter(t *testing.T, m *Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, mt := range mf.GetMetric() {
			for _, lp := range mt.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue next
				}
			}
			return mt.GetCounter().GetValue()
		}
	}
	return 0
}
