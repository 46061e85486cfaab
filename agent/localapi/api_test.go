package localapi

import (
	"bufio"

	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/testenv"
)

func TestEntitlement(t *testing.T) {
	eng := newScripted()
	r := start(t, Options{Engine: eng})
	get := func(q string) (int, agentapi.Entitlement) {
		t.Helper()
		resp, body := do(t, "GET", r.url(agentapi.PathEntitlement+q), "", nil)
		var e agentapi.Entitlement
		if resp.StatusCode == 200 {
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
		}
		return resp.StatusCode, e
	}
	if code, e := get(""); code != 200 || e.State != agentapi.StateInactive || e.Entitled {
		t.Fatalf("inactive: %d %+v", code, e)
	}
	// A new engine answer (new pointer) is served at once.
	eng.ent.Store(&agentapi.Entitlement{Entitled: true, State: agentapi.StateActive, Plan: "pro", Features: []string{"sign"}})
	if code, e := get(""); code != 200 || !e.Entitled || e.Plan != "pro" {
		t.Fatalf("after change: %d %+v", code, e)
	}
	for _, tc := range []struct {
		q    string
		want int
	}{
		{"?feature=sign", 200},
		{"?feature=a.b_c:d-1", 200},
		{"?feature=", 400},
		{"?feature=a%20b", 400},
		{"?feature=" + strings.Repeat("x", MaxFeatureLen+1), 400},
		{"?feature=a&feature=b", 400},
		{"?other=1", 200},
	} {
		t.Run(tc.q, func(t *testing.T) {
			code, e := get(tc.q)
			if code != tc.want {
				t.Fatalf("status %d, want %d", code, tc.want)
			}
			if code == 200 && strings.HasPrefix(tc.q, "?feature=") && e.Feature == "" {
				t.Fatalf("feature not echoed: %+v", e)
			}
		})
	}
	eng.ent.Store(nil)
	if code, _ := get(""); code != 503 {
		t.Fatalf("nil answer: %d, want 503", code)
	}
}

func TestEntitlementCache(t *testing.T) {
	var c entitlementCache
	l := newLanguages(nil)
	a := &agentapi.Entitlement{State: agentapi.StateActive, Plan: "a"}
	b := &agentapi.Entitlement{State: agentapi.StateActive, Plan: "b"}
	ca, _ := c.get(a, l, 0)
	if ca2, _ := c.get(a, l, 0); ca2 != ca {
		t.Fatal("same pointer re-serialized")
	}
	// A new answer is a new pointer, even when equal: it is serialized anew.
	a2 := *a
	if ca2, _ := c.get(&a2, l, 0); ca2 == ca || string(ca2.body) != string(ca.body) {
		t.Fatal("a new answer was not serialized anew")
	}
	cb, _ := c.get(b, l, 0)
	if cb == ca || !strings.Contains(string(cb.body), `"plan":"b"`) {
		t.Fatalf("changed answer served stale bytes: %s", cb.body)
	}
}

func TestHealthAndOpenAPI(t *testing.T) {
	r := start(t, Options{Engine: newScripted()})
	if resp, body := do(t, "GET", r.url(agentapi.PathHealth), "", nil); resp.StatusCode != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("health: %d %s", resp.StatusCode, body)
	}
	resp, body := do(t, "GET", r.url(agentapi.PathOpenAPI), "", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "openapi: 3.1") {
		t.Fatalf("openapi: %d %.80s", resp.StatusCode, body)
	}
	docs, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "openapi", "agent.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(docs) != string(openapiYAML) {
		t.Fatal("docs/openapi/agent.yaml and agent/localapi/agent.yaml differ: copy the docs file over the package copy")
	}
	for _, p := range []string{agentapi.PathEntitlement, agentapi.PathStatus, agentapi.PathActivation, agentapi.PathCheck, agentapi.PathEvents, agentapi.PathHealth, agentapi.PathOpenAPI} {
		if !strings.Contains(body, "\n  "+p+":") {
			t.Errorf("openapi document lacks path %s", p)
		}
	}
}

func TestExtraRoutesAreTokenProtected(t *testing.T) {
	r := start(t, Options{Engine: newScripted(), Extra: func(g *echo.Group) {
		g.GET("/profiles", func(c echo.Context) error { return c.JSON(200, []agentapi.ProfileInfo{}) })
	}})
	if resp, _ := do(t, "GET", r.url(agentapi.PathProfiles), "", nil); resp.StatusCode != 401 {
		t.Fatalf("without token: %d", resp.StatusCode)
	}
	if resp, body := do(t, "GET", r.url(agentapi.PathProfiles), "", authed(nil)); resp.StatusCode != 200 || strings.TrimSpace(body) != "[]" {
		t.Fatalf("with token: %d %s", resp.StatusCode, body)
	}
}

// sse opens the event stream and returns a reader of "event"/"data" frames.
type sseStream struct {
	resp *http.Response
	sc   *bufio.Scanner
}

func openEvents(t *testing.T, r *running) *sseStream {
	t.Helper()
	req, _ := http.NewRequest("GET", r.url(agentapi.PathEvents), nil)
	req.Header.Set(agentapi.TokenHeader, testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return &sseStream{resp: resp, sc: bufio.NewScanner(resp.Body)}
}

// next returns the next frame's lines (without the blank separator).
func (s *sseStream) next(t *testing.T) []string {
	t.Helper()
	var lines []string
	for s.sc.Scan() {
		if s.sc.Text() == "" {
			return lines
		}
		lines = append(lines, s.sc.Text())
	}
	if len(lines) == 0 {
		return nil
	}
	return lines
}

func (s *sseStream) event(t *testing.T) (string, agentapi.Event) {
	t.Helper()
	f := s.next(t)
	if len(f) != 2 || !strings.HasPrefix(f[0], "event: ") || !strings.HasPrefix(f[1], "data: ") {
		t.Fatalf("not an event frame: %q", f)
	}
	var ev agentapi.Event
	if err := json.Unmarshal([]byte(strings.TrimPrefix(f[1], "data: ")), &ev); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(f[0], "event: "), ev
}

func TestEvents(t *testing.T) {
	eng := newScripted()
	r := start(t, Options{Engine: eng, Heartbeat: 150 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond})
	s := openEvents(t, r)
	name, ev := s.event(t)
	if name != agentapi.EventStatus || ev.Type != agentapi.EventStatus || ev.Status == nil || ev.Status.Entitlement.State != agentapi.StateInactive {
		t.Fatalf("first event: %s %+v", name, ev)
	}
	if f := s.next(t); len(f) != 1 || f[0] != ": heartbeat" {
		t.Fatalf("heartbeat frame: %q", f)
	}
	// Past the server's read and write timeouts the stream still delivers.
	time.Sleep(400 * time.Millisecond)
	testenv.WaitFor(t, 2*time.Second, "subscription", func() bool { return eng.subscribers() == 1 })
	eng.publish(agentapi.Event{Type: agentapi.EventProfileAdded, Message: "added"})
	eng.publish(agentapi.Event{Type: "bad\nname", Message: "x"})
	var got []string
	for len(got) < 2 {
		f := s.next(t)
		if f == nil {
			t.Fatal("stream ended early")
		}
		if f[0] != ": heartbeat" {
			got = append(got, f[0])
		}
	}
	if got[0] != "event: profile_added" || got[1] != "event: message" {
		t.Fatalf("event names %q", got)
	}
}

func TestEventsEndOnShutdown(t *testing.T) {
	eng := newScripted()
	r := start(t, Options{Engine: eng})
	s := openEvents(t, r)
	s.event(t)
	t0 := time.Now()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
		r.done <- nil // for the cleanup
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not return with an event stream open")
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("shutdown took %s", d)
	}
	for s.sc.Scan() {
	}
	if err := s.sc.Err(); err != nil {
		t.Fatalf("stream did not end cleanly: %v", err)
	}
}

func TestEventStreamsBounded(t *testing.T) {
	r := start(t, Options{Engine: newScripted(), MaxStreams: 1})
	s := openEvents(t, r)
	s.event(t)
	if resp, _ := do(t, "GET", r.url(agentapi.PathEvents), "", authed(nil)); resp.StatusCode != 429 {
		t.Fatalf("second stream: %d, want 429", resp.StatusCode)
	}
}
