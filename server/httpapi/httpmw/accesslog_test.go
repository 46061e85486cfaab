package httpmw

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fakeClock advances by step on every reading.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time { c.t = c.t.Add(c.step); return c.t }

func logChain(logger *slog.Logger, p LogPolicy) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/checkin", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fail") != "" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("{}"))
	})
	mux.HandleFunc("POST /v1/activations", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("{}")) })
	return Identify(nil, AccessLogWith(logger, p, CaptureRoute(mux)))
}

func TestAccessLogPolicy(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		n          int
		step       time.Duration // clock step per reading
		sample     uint64
		wantInfo   int // lines at info
		wantLevel  string
		wantSample bool
	}{
		{"quiet route, fast and fine: debug only", "/v1/checkin", 10, time.Millisecond, 0, 0, "", false},
		{"quiet route sampled", "/v1/checkin", 10, time.Millisecond, 5, 2, "INFO", true},
		{"quiet route error", "/v1/checkin?fail=1", 3, time.Millisecond, 0, 3, "INFO", false},
		{"quiet route slow", "/v1/checkin", 3, time.Second, 0, 3, "INFO", false},
		{"other route", "/v1/activations", 4, time.Millisecond, 0, 4, "INFO", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var info, debug bytes.Buffer
			clock := &fakeClock{t: time.Unix(0, 0), step: tt.step}
			p := LogPolicy{Quiet: []string{"POST /v1/checkin"}, SampleEvery: tt.sample, Now: clock.now}
			hInfo := logChain(slog.New(slog.NewJSONHandler(&info, nil)), p)
			hDebug := logChain(slog.New(slog.NewJSONHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug})), p)
			for range tt.n {
				for _, h := range []http.Handler{hInfo, hDebug} {
					h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", tt.path, nil))
				}
			}
			lines := decodeLines(t, &info)
			if len(lines) != tt.wantInfo {
				t.Fatalf("%d lines at info, want %d:\n%s", len(lines), tt.wantInfo, info.String())
			}
			for _, l := range lines {
				if l["level"] != tt.wantLevel || (l["sampled"] != nil) != tt.wantSample {
					t.Errorf("line %v: want level %s, sampled attribute %v", l, tt.wantLevel, tt.wantSample)
				}
			}
			if d := decodeLines(t, &debug); len(d) != tt.n {
				t.Fatalf("%d lines at debug level, want every request (%d)", len(d), tt.n)
			}
		})
	}
}

func decodeLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(b)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// BenchmarkAccessLog measures the access log's cost per check-in with the
// server's JSON log written to a file at info level: every request logged
// (the former policy) against the check-in route made quiet.
func BenchmarkAccessLog(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    LogPolicy
	}{
		{"none", LogPolicy{}},
		{"info-every-request", LogPolicy{}},
		{"checkin-quiet", LogPolicy{Quiet: []string{"POST /v1/checkin"}, SampleEvery: 1000}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "log.json"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			logger := slog.New(slog.NewJSONHandler(f, nil))
			var h http.Handler
			if bc.name == "none" {
				mux := http.NewServeMux()
				mux.HandleFunc("POST /v1/checkin", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("{}")) })
				h = Identify(nil, CaptureRoute(mux))
			} else {
				h = logChain(logger, bc.p)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest("POST", "/v1/checkin", nil)
				for pb.Next() {
					h.ServeHTTP(discardWriter{}, r)
				}
			})
		})
	}
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}
