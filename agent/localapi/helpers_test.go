package localapi

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

const testToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// scriptedEngine is a programmable Engine for the cases a real engine cannot
// be driven into from a unit test (every error code, panics, event fan-out).
// Tests of normal behaviour use the real engine (realengine_test.go).
type scriptedEngine struct {
	ent      atomic.Pointer[agentapi.Entitlement]
	calls    atomic.Int64
	err      atomic.Pointer[error]
	mu       sync.Mutex
	subs     []chan agentapi.Event
	lastReq  agentapi.ActivateRequest
	panicMsg string
}

func newScripted() *scriptedEngine {
	e := &scriptedEngine{}
	e.ent.Store(&agentapi.Entitlement{State: agentapi.StateInactive, Reason: "not activated", CheckedAt: time.Unix(1700000000, 0).UTC()})
	return e
}

func (e *scriptedEngine) Entitlement(feature string) *agentapi.Entitlement {
	e.calls.Add(1)
	cur := e.ent.Load()
	if feature == "" {
		return cur
	}
	c := *cur
	c.Feature = feature
	return &c
}

func (e *scriptedEngine) Status() agentapi.Status {
	if e.panicMsg != "" {
		panic(e.panicMsg)
	}
	return agentapi.Status{Entitlement: *e.ent.Load(), AgentVersion: "test"}
}

func (e *scriptedEngine) fail() error {
	if p := e.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (e *scriptedEngine) Activate(_ context.Context, req agentapi.ActivateRequest) (agentapi.ActivateResponse, error) {
	e.mu.Lock()
	e.lastReq = req
	e.mu.Unlock()
	if err := e.fail(); err != nil {
		return agentapi.ActivateResponse{}, err
	}
	return agentapi.ActivateResponse{Status: e.Status()}, nil
}
func (e *scriptedEngine) Deactivate(context.Context) error { return e.fail() }
func (e *scriptedEngine) CheckNow(context.Context) error   { return e.fail() }

func (e *scriptedEngine) Subscribe(ctx context.Context) <-chan agentapi.Event {
	ch := make(chan agentapi.Event, 8)
	e.mu.Lock()
	e.subs = append(e.subs, ch)
	e.mu.Unlock()
	return ch
}

func (e *scriptedEngine) publish(ev agentapi.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ch := range e.subs {
		ch <- ev
	}
}

func (e *scriptedEngine) subscribers() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.subs)
}

// running is a Server serving on a real loopback listener.
type running struct {
	srv    *Server
	addr   string // host:port
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, o Options) *running { return startB(t, o) }

func startB(t testing.TB, o Options) *running {
	t.Helper()
	if o.Token == "" {
		o.Token = testToken
	}
	srv, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{srv: srv, addr: ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok && err != nil {
			t.Errorf("Serve: %v", err)
		}
		close(r.done)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func (r *running) url(path string) string { return "http://" + r.addr + path }

// do sends a request; hdr values are set as given (Host via "Host").
func do(t *testing.T, method, url string, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func authed(extra map[string]string) map[string]string {
	h := map[string]string{agentapi.TokenHeader: testToken}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

// clientFrom returns an HTTP client whose connections come from local IP src.
func clientFrom(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, Proxy: nil}, Timeout: 10 * time.Second}
}
