package localapi

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

// rawConn is a client connection that writes raw bytes and reads answers.
type rawConn struct {
	t   *testing.T
	c   net.Conn
	rec bytes.Buffer // every byte read
	br  *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	rc := &rawConn{t: t, c: c}
	rc.br = bufio.NewReader(io.TeeReader(c, &rc.rec))
	return rc
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, s); err != nil {
		rc.t.Fatal(err)
	}
}

// read reads one answer (to a request of method) and its body.
func (rc *rawConn) read(method string) (*http.Response, string) {
	rc.t.Helper()
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: method})
	if err != nil {
		rc.t.Fatalf("reading the answer: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		rc.t.Fatalf("reading the body: %v", err)
	}
	resp.Body.Close()
	return resp, string(b)
}

var dateLine = regexp.MustCompile(`\r\nDate: [^\r]*\r\n`)

func entitlementWithLease(n int) *agentapi.Entitlement {
	return &agentapi.Entitlement{Entitled: true, State: agentapi.StateActive, Reason: "licensed", Plan: "pro",
		Lease: strings.Repeat("x", n), CheckedAt: time.Unix(1700000000, 0).UTC()}
}

// TestFastPathAnswersAsNetHTTP sends the hot request as the fast path takes
// it, and again with "Content-Length: 0" (which it leaves to net/http), and
// compares the two answers byte for byte, Date aside: short and long bodies
// (net/http names the length of the one, the handler of the other), English
// and French.
func TestFastPathAnswersAsNetHTTP(t *testing.T) {
	for _, leaseLen := range []int{100, 4000} {
		for _, lang := range []string{"", "fr-FR,fr;q=0.9"} {
			t.Run(strconv.Itoa(leaseLen)+"/"+lang, func(t *testing.T) {
				eng := newScripted()
				eng.ent.Store(entitlementWithLease(leaseLen))
				r := start(t, Options{Engine: eng})
				req := "GET /v1/entitlement HTTP/1.1\r\nHost: " + r.addr + "\r\nUser-Agent: signer/1.0\r\n"
				if lang != "" {
					req += "Accept-Language: " + lang + "\r\n"
				}
				var answers [2]string
				for i, extra := range []string{"", "Content-Length: 0\r\n"} {
					before := r.srv.fastServed.Load()
					rc := dialRaw(t, r.addr)
					rc.send(req + extra + "\r\n")
					resp, body := rc.read(http.MethodGet)
					if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"state":"active"`) {
						t.Fatalf("answer %d: %d %s", i, resp.StatusCode, body)
					}
					if fast := r.srv.fastServed.Load() - before; fast != uint64(1-i) {
						t.Fatalf("answer %d: the fast path wrote %d answers", i, fast)
					}
					if resp.Header.Get("Date") == "" {
						t.Fatalf("answer %d has no Date", i)
					}
					answers[i] = dateLine.ReplaceAllString(rc.rec.String(), "\r\nDate: -\r\n")
				}
				if answers[0] != answers[1] {
					t.Fatalf("the fast path answered\n%q\nnet/http answered\n%q", answers[0], answers[1])
				}
				if lang != "" && !strings.Contains(answers[0], "Content-Language: fr\r\n") {
					t.Fatalf("no French: %q", answers[0])
				}
			})
		}
	}
}

// TestFastPathLeavesTheRestToNetHTTP sends requests near the hot one: each
// gets net/http's answer (the guard's refusal, net/http's 400, another
// route), and only the plain ones are the fast path's.
func TestFastPathLeavesTheRestToNetHTTP(t *testing.T) {
	eng := newScripted()
	eng.ent.Store(entitlementWithLease(50))
	r := start(t, Options{Engine: eng})
	host := "Host: " + r.addr + "\r\n"
	line := "GET /v1/entitlement HTTP/1.1\r\n"
	for _, tc := range []struct {
		name, req string
		method    string
		status    int
		fast      bool
	}{
		{"plain", line + host + "\r\n", "GET", 200, true},
		{"any case, spaces and tabs around values", line + "hOsT:\t " + r.addr + " \t\r\nconnection: Keep-Alive\r\nX-Empty:\r\n\r\n", "GET", 200, true},
		{"localhost name", line + "Host: localhost:" + r.addr[strings.LastIndexByte(r.addr, ':')+1:] + "\r\n\r\n", "GET", 200, true},
		{"feature query", "GET /v1/entitlement?feature=sign HTTP/1.1\r\n" + host + "\r\n", "GET", 200, false},
		{"HEAD", "HEAD /v1/entitlement HTTP/1.1\r\n" + host + "\r\n", "HEAD", 200, false},
		{"HTTP/1.0", "GET /v1/entitlement HTTP/1.0\r\n" + host + "\r\n", "GET", 200, false},
		{"bare LF", "GET /v1/entitlement HTTP/1.1\n" + "Host: " + r.addr + "\n\n", "GET", 200, false},
		{"Connection: close", line + host + "Connection: close\r\n\r\n", "GET", 200, false},
		{"chunked body", line + host + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "GET", 200, false},
		{"Expect", line + host + "Expect: 100-continue\r\n\r\n", "GET", 200, false},
		{"Upgrade", line + host + "Connection: keep-alive\r\nUpgrade: h2c\r\n\r\n", "GET", 200, false},
		{"two Accept-Language", line + host + "Accept-Language: fr\r\nAccept-Language: en\r\n\r\n", "GET", 200, false},
		{"Origin", line + host + "Origin: https://evil.example\r\n\r\n", "GET", 403, false},
		{"Sec-Fetch-Site", line + host + "Sec-Fetch-Site: cross-site\r\n\r\n", "GET", 403, false},
		{"Referer", line + host + "Referer: https://evil.example/\r\n\r\n", "GET", 403, false},
		{"other Host", line + "Host: evil.example\r\n\r\n", "GET", 403, false},
		{"two Hosts", line + host + host + "\r\n", "GET", 400, false},
		{"no Host", line + "\r\n", "GET", 400, false},
		{"space before colon", line + "Host : " + r.addr + "\r\n\r\n", "GET", 400, false},
		{"control character", line + host + "X-A: a\x01b\r\n\r\n", "GET", 400, false},
		{"folded line", line + host + "X-A: a\r\n b\r\n\r\n", "GET", 200, false},
		{"lowercase method", "get /v1/entitlement HTTP/1.1\r\n" + host + "\r\n", "GET", 405, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := r.srv.fastServed.Load()
			rc := dialRaw(t, r.addr)
			rc.send(tc.req)
			resp, body := rc.read(tc.method)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if fast := r.srv.fastServed.Load() - before; (fast == 1) != tc.fast {
				t.Fatalf("the fast path wrote %d answers, want fast=%v", fast, tc.fast)
			}
			if tc.status == 403 && resp.Header.Get("X-Frame-Options") != "DENY" {
				t.Fatalf("a refusal without the security headers: %v", resp.Header)
			}
		})
	}
}

// TestFastPathPipelined writes several requests at once: answers come in
// order, the fast path answers until a request is not its own, and net/http
// answers the rest of the connection.
func TestFastPathPipelined(t *testing.T) {
	eng := newScripted()
	eng.ent.Store(entitlementWithLease(50))
	r := start(t, Options{Engine: eng})
	hot := "GET /v1/entitlement HTTP/1.1\r\nHost: " + r.addr + "\r\n\r\n"
	health := "GET /v1/health HTTP/1.1\r\nHost: " + r.addr + "\r\n\r\n"
	rc := dialRaw(t, r.addr)
	rc.send(hot + hot + health + hot)
	for i, want := range []string{`"state":"active"`, `"state":"active"`, `"status":"ok"`, `"state":"active"`} {
		resp, body := rc.read(http.MethodGet)
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Fatalf("answer %d: %d %s, want %s", i, resp.StatusCode, body, want)
		}
	}
	if n := r.srv.fastServed.Load(); n != 2 {
		t.Fatalf("the fast path wrote %d answers, want 2", n)
	}
}

// TestFastPathFollowsTheEngine: a new answer from the engine is served at
// once, and while the engine has none (starting) net/http says 503.
func TestFastPathFollowsTheEngine(t *testing.T) {
	eng := newScripted()
	r := start(t, Options{Engine: eng})
	hot := "GET /v1/entitlement HTTP/1.1\r\nHost: " + r.addr + "\r\n\r\n"
	rc := dialRaw(t, r.addr)
	rc.send(hot)
	if _, body := rc.read("GET"); !strings.Contains(body, `"state":"inactive"`) {
		t.Fatalf("first answer %s", body)
	}
	eng.ent.Store(entitlementWithLease(10))
	rc.send(hot)
	if _, body := rc.read("GET"); !strings.Contains(body, `"state":"active"`) {
		t.Fatalf("after the change %s", body)
	}
	eng.ent.Store(nil)
	rc.send(hot)
	if resp, body := rc.read("GET"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("while starting: %d %s", resp.StatusCode, body)
	}
	if n := r.srv.fastServed.Load(); n != 2 {
		t.Fatalf("the fast path wrote %d answers, want 2", n)
	}
}

// TestFastPathShutdownClosesIdleConnections: a kept connection waiting for
// its next request does not hold the shutdown for its grace period.
func TestFastPathShutdownClosesIdleConnections(t *testing.T) {
	eng := newScripted()
	r := start(t, Options{Engine: eng, ShutdownTimeout: time.Minute})
	rc := dialRaw(t, r.addr)
	rc.send("GET /v1/entitlement HTTP/1.1\r\nHost: " + r.addr + "\r\n\r\n")
	rc.read("GET")
	r.stop(t) // fails if Serve has not returned within 10 s
	if _, err := rc.br.ReadByte(); err != io.EOF {
		t.Fatalf("the idle connection after shutdown: %v, want EOF", err)
	}
	r.done = make(chan error, 1) // the cleanup's stop
	r.done <- nil
}

// TestFastPathIdleTimeout: a kept connection is closed after IdleTimeout.
func TestFastPathIdleTimeout(t *testing.T) {
	eng := newScripted()
	r := start(t, Options{Engine: eng, IdleTimeout: 200 * time.Millisecond})
	rc := dialRaw(t, r.addr)
	rc.send("GET /v1/entitlement HTTP/1.1\r\nHost: " + r.addr + "\r\n\r\n")
	rc.read("GET")
	if _, err := rc.br.ReadByte(); err != io.EOF {
		t.Fatalf("after the idle timeout: %v, want EOF", err)
	}
}
