package localapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/entitle/entitle/pkg/agentapi"
)

func TestResolveLoopback(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"127.0.0.1:7343", "127.0.0.1:7343", true},
		{"localhost:0", "127.0.0.1:0", true},
		{"[::1]:7343", "[::1]:7343", true},
		{"127.8.9.10:1", "127.8.9.10:1", true},
		{"0.0.0.0:7343", "", false},
		{"[::]:7343", "", false},
		{":7343", "", false},
		{"192.168.1.10:7343", "", false},
		{"example.com:7343", "", false},
		{"[fe80::1%lo]:7343", "", false},
		{"127.0.0.1", "", false},
		{"127.0.0.1:99999", "", false},
		{"127.0.0.1:http", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ResolveLoopback(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ResolveLoopback(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestServeRefusesNonLoopbackListener(t *testing.T) {
	srv, err := New(Options{Engine: newScripted(), Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := srv.Serve(context.Background(), ln); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("Serve on %s = %v, want a loopback refusal", ln.Addr(), err)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Options{Token: testToken}); err == nil {
		t.Error("New without engine succeeded")
	}
	if _, err := New(Options{Engine: newScripted(), Token: "short"}); err == nil {
		t.Error("New with a short token succeeded")
	}
}

func TestHostHeader(t *testing.T) {
	r := start(t, Options{Engine: newScripted()})
	_, port, _ := net.SplitHostPort(r.addr)
	for _, tc := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:" + port, 200},
		{"localhost:" + port, 200},
		{"[::1]:" + port, 403}, // the agent listens on 127.0.0.1, not ::1
		{"127.0.0.1", 403},
		{"localhost", 403},
		{"127.0.0.1:1", 403},
		{"evil.example:" + port, 403},
		{"localhost.evil.example:" + port, 403},
		{"127.0.0.2:" + port, 403},
		{"LOCALHOST:" + port + "x", 403},
	} {
		t.Run(tc.host, func(t *testing.T) {
			resp, body := do(t, "GET", r.url(agentapi.PathEntitlement), "", map[string]string{"Host": tc.host})
			if resp.StatusCode != tc.want {
				t.Fatalf("Host %q: status %d (%s), want %d", tc.host, resp.StatusCode, body, tc.want)
			}
			if tc.want == 403 && !strings.Contains(body, `"error":"forbidden"`) {
				t.Fatalf("403 body = %s", body)
			}
		})
	}
}

// TestHostsFollowBoundAddress: the IP literal accepted in Host is the one the
// agent listens on (127.0.0.1 by default, ::1 when configured), never the
// other; localhost always.
func TestHostsFollowBoundAddress(t *testing.T) {
	for _, tc := range []struct {
		ip         net.IP
		want, deny string
	}{
		{net.IPv4(127, 0, 0, 1), "127.0.0.1:7343", "[::1]:7343"},
		{net.IPv6loopback, "[::1]:7343", "127.0.0.1:7343"},
	} {
		s, err := New(Options{Engine: newScripted(), Token: testToken})
		if err != nil {
			t.Fatal(err)
		}
		s.hosts.Store(allowedHosts(&net.TCPAddr{IP: tc.ip, Port: 7343}))
		if !s.hostAllowed(tc.want) || !s.hostAllowed("localhost:7343") {
			t.Errorf("bound to %s: %s or localhost:7343 refused (%v)", tc.ip, tc.want, *s.hosts.Load())
		}
		if s.hostAllowed(tc.deny) {
			t.Errorf("bound to %s: %s accepted", tc.ip, tc.deny)
		}
	}
}

// TestBrowserRequestsRefused holds the browser rule (docs/threat-model.md):
// Sec-Fetch-Site (every browser request), Origin or Referer refuse a request;
// Sec-Fetch-Mode and Sec-Fetch-Dest alone, as Node's fetch sends them, do not.
func TestBrowserRequestsRefused(t *testing.T) {
	r := start(t, Options{Engine: newScripted()})
	for _, path := range []string{agentapi.PathEntitlement, agentapi.PathHealth, agentapi.PathStatus, "/v1/nothing-here"} {
		for _, tc := range []struct {
			h    map[string]string
			want int
		}{
			{map[string]string{"Origin": "https://evil.example"}, 403},
			{map[string]string{"Origin": "null"}, 403},
			{map[string]string{"Origin": "http://" + r.addr}, 403},
			{map[string]string{"Referer": "https://evil.example/page"}, 403},
			{map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
			{map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
			{map[string]string{"Sec-Fetch-Site": "same-origin"}, 403},
			{map[string]string{"Sec-Fetch-Site": "none"}, 403},
			{map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}, 403},
			// What Node's fetch (undici) sends: no browser sends it without Sec-Fetch-Site.
			{map[string]string{"Sec-Fetch-Mode": "cors"}, 0},
			{map[string]string{"Sec-Fetch-Mode": "cors", "Accept-Language": "*"}, 0},
			{map[string]string{"Sec-Fetch-Dest": "empty"}, 0},
		} {
			t.Run(fmt.Sprint(path, tc.h), func(t *testing.T) {
				want := tc.want
				if want == 0 {
					want = 200
					if path == "/v1/nothing-here" {
						want = 404
					}
				}
				resp, body := do(t, "GET", r.url(path), "", authed(tc.h))
				if resp.StatusCode != want {
					t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, want)
				}
			})
		}
	}
	// The same request without browser headers passes.
	if resp, body := do(t, "GET", r.url(agentapi.PathStatus), "", authed(nil)); resp.StatusCode != 200 {
		t.Fatalf("native status request: %d %s", resp.StatusCode, body)
	}
}

// TestRouting: HEAD is answered where GET is, with the same token rule; an
// unknown path is 404 whether or not a token comes with it; a known path with
// another method is 405 with Allow.
func TestRouting(t *testing.T) {
	r := start(t, Options{Engine: newScripted(), Extra: func(g *echo.Group) {
		g.GET("/profiles", func(c echo.Context) error { return c.JSON(200, []string{}) })
	}})
	for _, tc := range []struct {
		method, path string
		token        bool
		want         int
		allow        string
	}{
		{"HEAD", agentapi.PathEntitlement, false, 200, ""},
		{"HEAD", agentapi.PathEntitlement + "?feature=sign", false, 200, ""},
		{"HEAD", agentapi.PathHealth, false, 200, ""},
		{"HEAD", agentapi.PathOpenAPI, false, 200, ""},
		{"HEAD", agentapi.PathStatus, false, 401, ""},
		{"HEAD", agentapi.PathStatus, true, 200, ""},
		{"GET", "/v1/nothing-here", false, 404, ""},
		{"GET", "/v1/nothing-here", true, 404, ""},
		{"POST", "/v1/status/extra", false, 404, ""},
		{"GET", "/v1", false, 404, ""},
		{"GET", "/v1/", false, 404, ""},
		{"GET", "/", false, 404, ""},
		{"GET", "/metrics", false, 404, ""},
		{"POST", agentapi.PathEntitlement, false, 405, "GET, HEAD"},
		{"DELETE", agentapi.PathHealth, false, 405, "GET, HEAD"},
		{"GET", agentapi.PathActivation, true, 405, "DELETE, POST"},
		{"PUT", agentapi.PathStatus, true, 405, "GET, HEAD"},
		{"GET", agentapi.PathProfiles, true, 200, ""},
		{"GET", agentapi.PathProfiles, false, 401, ""},
	} {
		t.Run(tc.method+" "+tc.path+fmt.Sprint(tc.token), func(t *testing.T) {
			var hdr map[string]string
			if tc.token {
				hdr = authed(nil)
			}
			resp, body := do(t, tc.method, r.url(tc.path), "", hdr)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.want)
			}
			if tc.method == "HEAD" && body != "" {
				t.Fatalf("HEAD answered a body: %q", body)
			}
			if tc.want >= 400 && tc.method != "HEAD" && !strings.Contains(body, `"error":`) {
				t.Fatalf("error body = %q", body)
			}
			if tc.allow != "" && sortedAllow(resp.Header.Get("Allow")) != tc.allow {
				t.Fatalf("Allow = %q, want %q", resp.Header.Get("Allow"), tc.allow)
			}
		})
	}
}

func sortedAllow(v string) string {
	ms := strings.Split(v, ",")
	for i := range ms {
		ms[i] = strings.TrimSpace(ms[i])
	}
	slices.Sort(ms)
	return strings.Join(ms, ", ")
}

func TestMutatingRequestsNeedJSON(t *testing.T) {
	eng := newScripted()
	r := start(t, Options{Engine: eng})
	body := `{"method":"browser"}`
	for _, tc := range []struct {
		name, method, path, ctype, body string
		want                            int
	}{
		{"form", "POST", agentapi.PathActivation, "application/x-www-form-urlencoded", body, 403},
		{"text", "POST", agentapi.PathActivation, "text/plain", body, 403},
		{"multipart", "POST", agentapi.PathActivation, "multipart/form-data; boundary=x", body, 403},
		{"no type with body", "POST", agentapi.PathActivation, "", body, 403},
		{"json", "POST", agentapi.PathActivation, "application/json", body, 200},
		{"json charset", "POST", agentapi.PathActivation, "application/json; charset=utf-8", body, 200},
		{"check text", "POST", agentapi.PathCheck, "text/plain", "{}", 403},
		{"check no body", "POST", agentapi.PathCheck, "", "", 200},
		{"check empty object", "POST", agentapi.PathCheck, "application/json", "{}", 200},
		{"check unknown field", "POST", agentapi.PathCheck, "application/json", `{"x":1}`, 400},
		{"delete text", "DELETE", agentapi.PathActivation, "text/plain", "", 403},
		{"delete bare", "DELETE", agentapi.PathActivation, "", "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := authed(nil)
			if tc.ctype != "" {
				h["Content-Type"] = tc.ctype
			}
			resp, got := do(t, tc.method, r.url(tc.path), tc.body, h)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, got, tc.want)
			}
		})
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	eng := newScripted()
	r := start(t, Options{Engine: eng, Extra: func(g *echo.Group) {
		g.GET("/boom", func(echo.Context) error { panic("boom") })
	}})
	want := map[string]string{
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
	}
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		status             int
	}{
		{"entitlement", "GET", agentapi.PathEntitlement, nil, 200},
		{"health", "GET", agentapi.PathHealth, nil, 200},
		{"openapi", "GET", agentapi.PathOpenAPI, nil, 200},
		{"unauthorized", "GET", agentapi.PathStatus, nil, 401},
		{"forbidden host", "GET", agentapi.PathEntitlement, map[string]string{"Host": "evil.example"}, 403},
		{"not found", "GET", "/nope", nil, 404},
		{"not found in group", "GET", "/v1/nope", authed(nil), 404},
		{"wrong method", "PUT", agentapi.PathEntitlement, authed(nil), 405},
		{"panic", "GET", "/v1/boom", authed(nil), 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.method, r.url(tc.path), "", tc.hdr)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.status)
			}
			for k, v := range want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if tc.status >= 400 && !strings.HasPrefix(body, `{"error":"`) {
				t.Errorf("error body is not agentapi.Error JSON: %s", body)
			}
		})
	}
	// The server survives the panic.
	if resp, _ := do(t, "GET", r.url(agentapi.PathHealth), "", nil); resp.StatusCode != 200 {
		t.Fatalf("after panic: %d", resp.StatusCode)
	}
}

func TestToken(t *testing.T) {
	r := start(t, Options{Engine: newScripted()})
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"missing", nil, 401},
		{"wrong", map[string]string{agentapi.TokenHeader: strings.Repeat("f", 64)}, 401},
		{"prefix", map[string]string{agentapi.TokenHeader: testToken[:32]}, 401},
		{"header", map[string]string{agentapi.TokenHeader: testToken}, 200},
		{"bearer", map[string]string{"Authorization": "Bearer " + testToken}, 200},
		{"bearer lowercase", map[string]string{"Authorization": "bearer " + testToken}, 200},
		{"basic", map[string]string{"Authorization": "Basic " + testToken}, 401},
		{"conflict", map[string]string{agentapi.TokenHeader: testToken, "Authorization": "Bearer " + strings.Repeat("0", 64)}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, "GET", r.url(agentapi.PathStatus), "", tc.hdr)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.want)
			}
		})
	}
}

func TestTokenFailuresRateLimited(t *testing.T) {
	r := start(t, Options{Engine: newScripted(), FailureBurst: 3, FailureRate: 0.5})
	get := func(c *http.Client, tok string) int {
		req, _ := http.NewRequest("GET", r.url(agentapi.PathStatus), nil)
		req.Header.Set(agentapi.TokenHeader, tok)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	from1 := clientFrom("127.0.0.1")
	for i := 0; i < 3; i++ {
		if got := get(from1, "bad"); got != 401 {
			t.Fatalf("failure %d: status %d, want 401", i+1, got)
		}
	}
	if got := get(from1, "bad"); got != 429 {
		t.Fatalf("after burst: status %d, want 429", got)
	}
	if got := get(from1, testToken); got != 200 { // limiter_test.go
		t.Fatalf("limited address with the right token: status %d, want 200", got)
	}
	// Another loopback source address has its own budget.
	if got := get(clientFrom("127.0.0.2"), testToken); got != 200 {
		t.Fatalf("other address: status %d, want 200", got)
	}
	// The budget refills (0.5/s: one token after 2 s).
	time.Sleep(2100 * time.Millisecond)
	if got := get(from1, "bad"); got != 401 {
		t.Fatalf("after refill: status %d, want 401", got)
	}
}

func TestLimiterTableBounded(t *testing.T) {
	now := time.Unix(0, 0)
	a := newAuthenticator(testToken, 1, 2, func() time.Time { return now })
	for i := 0; i < maxLimiterEntries+10; i++ {
		ip := fmt.Sprintf("127.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		a.fail(ip)
		a.fail(ip)
	}
	if len(a.fails) > maxLimiterEntries {
		t.Fatalf("table grew to %d entries", len(a.fails))
	}
	if !a.limited("127.200.0.1") {
		t.Fatal("a new address was not limited while the table was full of limited addresses")
	}
	now = now.Add(time.Minute) // every budget refills: the table prunes
	if a.limited("127.200.0.1") {
		t.Fatal("new address limited after every budget refilled")
	}
}

func TestBodyLimitsAndDecoding(t *testing.T) {
	eng := newScripted()
	r := start(t, Options{Engine: eng})
	big := `{"method":"license_key","license_key":"` + strings.Repeat("A", agentapi.MaxBodyBytes) + `"}`
	for _, tc := range []struct {
		name, body string
		chunked    bool
		want       int
	}{
		{"too large", big, false, 413},
		{"too large chunked", big, true, 413},
		{"malformed", `{"method":`, false, 400},
		{"not an object", `[1,2]`, false, 400},
		{"unknown field", `{"method":"browser","admin":true}`, false, 400},
		{"trailing", `{"method":"browser"} {}`, false, 400},
		{"empty", ``, false, 400},
		{"bad method", `{"method":"magic"}`, false, 400},
		{"key with browser", `{"method":"browser","license_key":"K"}`, false, 400},
		{"key with space", `{"method":"license_key","license_key":"A B"}`, false, 400},
		{"password no email", `{"method":"password","password":"x"}`, false, 400},
		{"license key", `{"method":"license_key","license_key":"ABCD-EFGH"}`, false, 200},
		{"password", `{"method":"password","email":"a@b.example","password":"pä ss"}`, false, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", r.url(agentapi.PathActivation), strings.NewReader(tc.body))
			if tc.chunked {
				req.ContentLength = -1
				req.Body = io.NopCloser(struct{ io.Reader }{strings.NewReader(tc.body)})
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(agentapi.TokenHeader, testToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestEngineErrorsMapped(t *testing.T) {
	eng := newScripted()
	r := start(t, Options{Engine: eng})
	for _, tc := range []struct {
		err  error
		want int
		code string
	}{
		{&agentapi.Error{Code: agentapi.ErrConflict, Message: "already active"}, 409, agentapi.ErrConflict},
		{&agentapi.Error{Code: agentapi.ErrUnavailable, Message: "server unreachable"}, 503, agentapi.ErrUnavailable},
		{&agentapi.Error{Code: agentapi.ErrUpstream, Message: "no seats"}, 502, agentapi.ErrUpstream},
		{fmt.Errorf("wrapped: %w", &agentapi.Error{Code: agentapi.ErrForbidden, Message: "managed"}), 403, agentapi.ErrForbidden},
		{errors.New("disk on fire /secret/path"), 500, agentapi.ErrInternalError},
	} {
		t.Run(tc.code, func(t *testing.T) {
			err := tc.err
			eng.err.Store(&err)
			for _, req := range []struct{ method, path, body string }{
				{"POST", agentapi.PathActivation, `{"method":"browser"}`},
				{"DELETE", agentapi.PathActivation, ""},
				{"POST", agentapi.PathCheck, ""},
			} {
				resp, body := do(t, req.method, r.url(req.path), req.body, authed(map[string]string{"Content-Type": "application/json"}))
				if resp.StatusCode != tc.want || !strings.Contains(body, `"error":"`+tc.code+`"`) {
					t.Fatalf("%s %s: %d %s, want %d %s", req.method, req.path, resp.StatusCode, body, tc.want, tc.code)
				}
				if strings.Contains(body, "/secret/path") {
					t.Fatalf("internal error details leaked: %s", body)
				}
			}
		})
	}
}

func TestServerLimits(t *testing.T) {
	r := start(t, Options{Engine: newScripted(), ReadHeaderTimeout: 300 * time.Millisecond})
	t.Run("header too large", func(t *testing.T) {
		resp, _ := do(t, "GET", r.url(agentapi.PathHealth), "", map[string]string{"X-Pad": strings.Repeat("a", DefaultMaxHeaderBytes+4096)})
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", resp.StatusCode)
		}
	})
	t.Run("slow headers", func(t *testing.T) {
		c, err := net.Dial("tcp", r.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte("GET /v1/health HTTP/1.1\r\nHost: x\r\n")); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		buf := make([]byte, 512)
		for {
			if _, err := c.Read(buf); err != nil {
				break // closed by the server
			}
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("connection with unfinished headers stayed open %s", d)
		}
	})
}

// TestBodyLimitsPerPath checks that Options.BodyLimits raises the cap only for
// the paths it names, and still enforces the raised cap there.
func TestBodyLimitsPerPath(t *testing.T) {
	var got int
	r := start(t, Options{
		Engine: newScripted(),
		Extra: func(g *echo.Group) {
			g.POST("/bulk", func(c echo.Context) error {
				b, err := io.ReadAll(c.Request().Body)
				got = len(b)
				if err != nil {
					return err
				}
				return c.NoContent(http.StatusNoContent)
			})
		},
		BodyLimits: map[string]int64{"/v1/bulk": 4 * agentapi.MaxBodyBytes},
	})
	body := func(n int) string { return `"` + strings.Repeat("A", n) + `"` }
	for _, tc := range []struct {
		name, path, body string
		want             int
	}{
		{"raised path accepts more than the default cap", "/v1/bulk", body(2 * agentapi.MaxBodyBytes), 204},
		{"raised path still has a cap", "/v1/bulk", body(5 * agentapi.MaxBodyBytes), 413},
		{"other paths keep the default cap", agentapi.PathActivation, body(2 * agentapi.MaxBodyBytes), 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := do(t, "POST", r.url(tc.path), tc.body, authed(map[string]string{"Content-Type": "application/json"}))
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if got != 2*agentapi.MaxBodyBytes+2 {
		t.Fatalf("handler read %d bytes", got)
	}
}
