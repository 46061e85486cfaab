package agentclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

const testToken = "00ff11ee"

// recorder is an httptest agent that records what it received.
type recorder struct {
	method, path, query, token, origin, referer, body string
}

func newServer(t *testing.T, status int, resp string, rec *recorder) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*rec = recorder{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get(agentapi.TokenHeader),
			r.Header.Get("Origin"), r.Header.Get("Referer"), string(b)}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, resp)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{BaseURL: srv.URL, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMethods(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		call       func(c *Client) (any, error)
		resp       string
		wantMethod string
		wantPath   string
		wantQuery  string
		wantBody   string
		check      func(t *testing.T, got any)
	}{
		{
			name:       "entitlement",
			call:       func(c *Client) (any, error) { return c.Entitlement(ctx, "") },
			resp:       `{"entitled":true,"state":"active","plan":"pro","profile_count":2,"checked_at":"2026-01-02T03:04:05Z"}`,
			wantMethod: "GET", wantPath: agentapi.PathEntitlement,
			check: func(t *testing.T, got any) {
				e := got.(*agentapi.Entitlement)
				if !e.Entitled || e.State != agentapi.StateActive || e.Plan != "pro" || e.ProfileCount != 2 {
					t.Errorf("got %+v", e)
				}
			},
		},
		{
			name:       "entitlement feature",
			call:       func(c *Client) (any, error) { return c.Entitlement(ctx, "sign & seal") },
			resp:       `{"entitled":false,"state":"active","feature":"sign & seal","checked_at":"2026-01-02T03:04:05Z"}`,
			wantMethod: "GET", wantPath: agentapi.PathEntitlement, wantQuery: "feature=sign+%26+seal",
			check: func(t *testing.T, got any) {
				if e := got.(*agentapi.Entitlement); e.Feature != "sign & seal" || e.Entitled {
					t.Errorf("got %+v", e)
				}
			},
		},
		{
			name:       "status",
			call:       func(c *Client) (any, error) { return c.Status(ctx) },
			resp:       `{"entitlement":{"state":"offline","entitled":true,"profile_count":0,"checked_at":"2026-01-02T03:04:05Z"},"activated":true,"server_url":"https://x","deactivate_allowed":true,"agent_version":"1"}`,
			wantMethod: "GET", wantPath: agentapi.PathStatus,
			check: func(t *testing.T, got any) {
				s := got.(*agentapi.Status)
				if !s.Activated || s.Entitlement.State != agentapi.StateOffline || !s.DeactivateOK {
					t.Errorf("got %+v", s)
				}
			},
		},
		{
			name: "activate",
			call: func(c *Client) (any, error) {
				return c.Activate(ctx, agentapi.ActivateRequest{Method: agentapi.ActivateBrowser})
			},
			resp:       `{"status":{"activated":false,"entitlement":{"state":"inactive","checked_at":"2026-01-02T03:04:05Z"}},"pending_auth":{"user_code":"ABCD-EFGH","verification_uri":"https://x/device"}}`,
			wantMethod: "POST", wantPath: agentapi.PathActivation, wantBody: `{"method":"browser"}`,
			check: func(t *testing.T, got any) {
				r := got.(*agentapi.ActivateResponse)
				if r.Pending == nil || r.Pending.UserCode != "ABCD-EFGH" {
					t.Errorf("got %+v", r)
				}
			},
		},
		{
			name:       "deactivate",
			call:       func(c *Client) (any, error) { return nil, c.Deactivate(ctx) },
			wantMethod: "DELETE", wantPath: agentapi.PathActivation,
		},
		{
			name:       "check",
			call:       func(c *Client) (any, error) { return nil, c.Check(ctx) },
			resp:       `{"ignored":true}`,
			wantMethod: "POST", wantPath: agentapi.PathCheck,
		},
		{
			name:       "health",
			call:       func(c *Client) (any, error) { return nil, c.Health(ctx) },
			wantMethod: "GET", wantPath: agentapi.PathHealth,
		},
		{
			name: "do profiles",
			call: func(c *Client) (any, error) {
				var out []agentapi.ProfileInfo
				err := c.Do(ctx, "GET", agentapi.PathProfiles+"?owner=me", nil, &out)
				return out, err
			},
			resp:       `[{"id":"p1","name":"Work","default":true}]`,
			wantMethod: "GET", wantPath: agentapi.PathProfiles, wantQuery: "owner=me",
			check: func(t *testing.T, got any) {
				p := got.([]agentapi.ProfileInfo)
				if len(p) != 1 || p[0].ID != "p1" || !p[0].Default {
					t.Errorf("got %+v", p)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			c := newServer(t, 200, tc.resp, &rec)
			got, err := tc.call(c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if rec.method != tc.wantMethod || rec.path != tc.wantPath || rec.query != tc.wantQuery {
				t.Errorf("request %s %s?%s, want %s %s?%s", rec.method, rec.path, rec.query, tc.wantMethod, tc.wantPath, tc.wantQuery)
			}
			if rec.token != testToken {
				t.Errorf("token header %q, want %q", rec.token, testToken)
			}
			if rec.origin != "" || rec.referer != "" {
				t.Errorf("sent Origin %q / Referer %q", rec.origin, rec.referer)
			}
			if tc.wantBody != "" && strings.TrimSpace(rec.body) != tc.wantBody {
				t.Errorf("body %q, want %q", rec.body, tc.wantBody)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		wantCode string
		wantMsg  string
	}{
		{"agent json", 409, `{"error":"conflict","message":"already activated"}`, agentapi.ErrConflict, "already activated"},
		{"forbidden", 403, `{"error":"forbidden","message":"managed remotely"}`, agentapi.ErrForbidden, "managed remotely"},
		{"not json", 502, `<html>bad gateway</html>`, agentapi.ErrUpstream, "HTTP 502"},
		{"empty", 401, ``, agentapi.ErrUnauthorized, "HTTP 401"},
		{"unknown status", 418, `teapot`, agentapi.ErrInternalError, "teapot"},
		{"huge body", 500, strings.Repeat("x", 1<<20), agentapi.ErrInternalError, "HTTP 500"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			c := newServer(t, tc.status, tc.body, &rec)
			_, err := c.Status(context.Background())
			var ae *agentapi.Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T) is not *agentapi.Error", err, err)
			}
			if ae.Code != tc.wantCode || !strings.Contains(ae.Message, tc.wantMsg) {
				t.Errorf("got %q %q, want %q containing %q", ae.Code, ae.Message, tc.wantCode, tc.wantMsg)
			}
			if len(ae.Message) > 1000 {
				t.Errorf("message not bounded: %d bytes", len(ae.Message))
			}
			if errors.Is(err, ErrAgentNotRunning) {
				t.Error("HTTP error reported as agent not running")
			}
		})
	}
}

func TestBadJSONResponse(t *testing.T) {
	var rec recorder
	c := newServer(t, 200, `{"entitlement":`, &rec)
	if _, err := c.Status(context.Background()); err == nil {
		t.Fatal("truncated JSON accepted")
	}
}

func TestAgentNotRunning(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := New(Options{BaseURL: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Health(context.Background())
	if !errors.Is(err, ErrAgentNotRunning) {
		t.Fatalf("got %v, want ErrAgentNotRunning", err)
	}
	_, errc := c.Events(context.Background())
	if err := <-errc; !errors.Is(err, ErrAgentNotRunning) {
		t.Fatalf("events: got %v, want ErrAgentNotRunning", err)
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"default", Options{}, true},
		{"http", Options{BaseURL: "http://127.0.0.1:1/"}, true},
		{"with prefix", Options{BaseURL: "http://127.0.0.1:1/agent/"}, true},
		{"ftp", Options{BaseURL: "ftp://127.0.0.1"}, false},
		{"no host", Options{BaseURL: "http://"}, false},
		{"garbage", Options{BaseURL: "::"}, false},
		{"token newline", Options{Token: "ab\ncd"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.o)
			if (err == nil) != tc.ok {
				t.Errorf("New(%+v) err=%v, want ok=%v", tc.o, err, tc.ok)
			}
		})
	}
}

func TestBasePathPrefix(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Path
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL + "/prefix/"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := <-got; p != "/prefix"+agentapi.PathHealth {
		t.Errorf("path %q", p)
	}
	if err := c.Do(context.Background(), "GET", "v1/health", nil, nil); err == nil {
		t.Error("relative path accepted")
	}
}

func TestReadToken(t *testing.T) {
	tests := []struct {
		name    string
		content *string
		want    string
		ok      bool
	}{
		{"valid", ptr("deadBEEF01\n"), "deadBEEF01", true},
		{"spaces", ptr("  abcd  \r\n"), "abcd", true},
		{"missing", nil, "", false},
		{"empty", ptr(" \n"), "", false},
		{"not hex", ptr("xyz"), "", false},
		{"odd length", ptr("abc"), "", false},
		{"too large", ptr(strings.Repeat("ab", 4096)), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.content != nil {
				if err := os.WriteFile(filepath.Join(dir, agentapi.TokenFile), []byte(*tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ReadToken(dir)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ReadToken = %q, %v; want %q ok=%v", got, err, tc.want, tc.ok)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestEventsStream(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(agentapi.TokenHeader) != testToken {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"unauthorized","message":"token"}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		f := w.(http.Flusher)
		fmt.Fprint(w, ": hello\n\n")
		fmt.Fprint(w, "event: status\ndata: {\"type\":\"ignored\",\"status\":{\"activated\":true,\n")
		fmt.Fprint(w, "data: \"entitlement\":{\"state\":\"active\",\"checked_at\":\"2026-01-02T03:04:05Z\"}}}\n\n")
		fmt.Fprint(w, "id: 7\r\nretry: 100\r\ndata: {\"type\":\"deactivated\",\"message\":\"bye\"}\r\n\r\n")
		f.Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	c, _ := New(Options{BaseURL: srv.URL, Token: testToken})
	ctx, cancel := context.WithCancel(context.Background())
	events, errc := c.Events(ctx)
	ev1 := recv(t, events)
	if ev1.Type != agentapi.EventStatus || ev1.Status == nil || !ev1.Status.Activated {
		t.Errorf("event 1: %+v", ev1)
	}
	ev2 := recv(t, events)
	if ev2.Type != agentapi.EventDeactivated || ev2.Message != "bye" {
		t.Errorf("event 2: %+v", ev2)
	}
	cancel()
	if _, ok := <-events; ok {
		t.Error("events channel not closed after cancel")
	}
	if err, ok := <-errc; ok {
		t.Errorf("error after cancel: %v", err)
	}

	// A wrong token ends the stream with the agent's error.
	bad, _ := New(Options{BaseURL: srv.URL, Token: "00"})
	_, errc = bad.Events(context.Background())
	var ae *agentapi.Error
	if err := <-errc; !errors.As(err, &ae) || ae.Code != agentapi.ErrUnauthorized {
		t.Errorf("bad token: %v", err)
	}
}

func TestEventsStreamBreaks(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"type\":\"status\"}\n\n")
	}))
	defer srv.Close()
	c, _ := New(Options{BaseURL: srv.URL})
	events, errc := c.Events(context.Background())
	recv(t, events)
	select {
	case err := <-errc:
		if err == nil {
			t.Error("no error when the stream ended")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream end not reported")
	}
	if _, ok := <-events; ok {
		t.Error("events channel not closed")
	}
}

func TestEventsWrongContentType(t *testing.T) {
	var rec recorder
	c := newServer(t, 200, `{}`, &rec)
	_, errc := c.Events(context.Background())
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "content type") {
		t.Errorf("got %v", err)
	}
}

func recv(t *testing.T, ch <-chan agentapi.Event) agentapi.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return agentapi.Event{}
}

func TestParseEvents(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string // types
		wantErr bool
	}{
		{"empty", "", nil, false},
		{"comment only", ": ping\n\n", nil, false},
		{"one", "data: {\"type\":\"status\"}\n\n", []string{"status"}, false},
		{"name overrides", "event: cert_expiring\ndata: {\"type\":\"status\"}\n\n", []string{"cert_expiring"}, false},
		{"no space", "event:x\ndata:{}\n\n", []string{"x"}, false},
		{"unterminated dropped", "data: {\"type\":\"status\"}\n", nil, false},
		{"two", "data: {\"type\":\"a\"}\n\ndata: {\"type\":\"b\"}\n\n", []string{"a", "b"}, false},
		{"event without data", "event: a\n\ndata: {\"type\":\"b\"}\n\n", []string{"b"}, false},
		{"bad json", "data: {\n\n", nil, true},
		{"line too long", "data: " + strings.Repeat("a", MaxEventLine+10) + "\n\n", nil, true},
		{"data too large", strings.Repeat("data: "+strings.Repeat("a", 1000)+"\n", 5000) + "\n", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := ParseEvents(strings.NewReader(tc.in), func(ev agentapi.Event) error {
				got = append(got, ev.Type)
				return nil
			})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tc.wantErr)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// emit's error stops parsing.
	stop := errors.New("stop")
	err := ParseEvents(strings.NewReader("data: {}\n\ndata: {}\n\n"), func(agentapi.Event) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("got %v", err)
	}
}

func TestEventJSONRoundTrip(t *testing.T) {
	ev := agentapi.Event{Type: "status", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Status: &agentapi.Status{Activated: true}}
	b, _ := json.Marshal(ev)
	var got agentapi.Event
	if err := ParseEvents(strings.NewReader("data: "+string(b)+"\n\n"), func(e agentapi.Event) error { got = e; return nil }); err != nil {
		t.Fatal(err)
	}
	if !got.Time.Equal(ev.Time) || got.Status == nil || !got.Status.Activated {
		t.Errorf("got %+v", got)
	}
}

func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		resp    string
		limit   int64
		want    string
		errCode string // agentapi error code expected, or "any" for another error
	}{
		{"file answer", 200, "\x00\x01binary", 64, "\x00\x01binary", ""},
		{"exactly the limit", 200, "12345678", 8, "12345678", ""},
		{"over the limit", 200, "123456789", 8, "", "any"},
		{"agent error", 404, `{"error":"not_found","message":"no such profile"}`, 64, "", agentapi.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			c := newServer(t, tc.status, tc.resp, &rec)
			got, err := c.Bytes(context.Background(), http.MethodPost, "/v1/profiles/x/export", map[string]string{"format": "der"}, tc.limit)
			switch {
			case tc.errCode == "" && err != nil:
				t.Fatalf("error: %v", err)
			case tc.errCode == "" && string(got) != tc.want:
				t.Fatalf("got %q, want %q", got, tc.want)
			case tc.errCode == "any" && err == nil:
				t.Fatalf("an answer over the limit was accepted: %q", got)
			case tc.errCode != "" && tc.errCode != "any":
				var ae *agentapi.Error
				if !errors.As(err, &ae) || ae.Code != tc.errCode {
					t.Fatalf("error %v, want code %s", err, tc.errCode)
				}
			}
			if rec.token != testToken || rec.body != `{"format":"der"}` {
				t.Fatalf("request: %+v", rec)
			}
		})
	}
}
