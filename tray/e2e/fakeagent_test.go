//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

const fakeToken = "0123456789abcdef"

// rawUnavailable is the real agent's message for an unreachable server: a
// raw Go error that must not reach the menu.
const rawUnavailable = `cannot reach the licensing server at http://127.0.0.1:8780: Post "http://127.0.0.1:8780/v1/checkin": dial tcp 127.0.0.1:8780: connect: connection refused`

// fakeAgent is an httptest stand-in for the agent's local API, used only to
// prove the D-Bus harness and the tray's reconnect logic; the real agent is
// exercised in realagent_test.go.
type fakeAgent struct {
	t        *testing.T
	stateDir string
	addr     string

	mu       sync.Mutex
	status   agentapi.Status
	subs     map[chan agentapi.Event]struct{}
	requests []string // "METHOD path body"
	// checkFails makes POST /v1/check answer what the real agent answers
	// when the licensing server cannot be reached.
	checkFails bool
	srv        *httptest.Server
	stop       chan struct{}
}

func newFakeAgent(t *testing.T, st agentapi.Status) *fakeAgent {
	a := &fakeAgent{t: t, stateDir: t.TempDir(), status: st, subs: map[chan agentapi.Event]struct{}{}}
	if err := os.WriteFile(filepath.Join(a.stateDir, agentapi.TokenFile), []byte(fakeToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.start("127.0.0.1:0")
	t.Cleanup(a.shutdown)
	return a
}

func (a *fakeAgent) URL() string { return "http://" + a.addr }

// start listens on addr (reusing the previous port after a restart).
func (a *fakeAgent) start(addr string) {
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old socket may linger briefly
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		a.t.Fatalf("listen %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(a.serve))
	srv.Listener.Close()
	srv.Listener = l
	a.mu.Lock()
	a.srv, a.stop, a.addr = srv, make(chan struct{}), l.Addr().String()
	a.mu.Unlock()
	srv.Start()
}

// shutdown stops the server; start brings it back on the same port.
func (a *fakeAgent) shutdown() {
	a.mu.Lock()
	srv, stop := a.srv, a.stop
	a.srv = nil
	a.mu.Unlock()
	if srv == nil {
		return
	}
	close(stop)
	srv.CloseClientConnections()
	srv.Close()
}

func (a *fakeAgent) Requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.requests...)
}

// set changes the status and pushes it to every event stream.
func (a *fakeAgent) set(f func(*agentapi.Status)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(&a.status)
	a.publishLocked()
}

func (a *fakeAgent) publishLocked() {
	st := a.status
	for ch := range a.subs {
		select {
		case ch <- agentapi.Event{Type: agentapi.EventStatus, Time: time.Now(), Status: &st}:
		default:
		}
	}
}

func (a *fakeAgent) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, agentapi.MaxBodyBytes))
	a.mu.Lock()
	a.requests = append(a.requests, fmt.Sprintf("%s %s %s", r.Method, r.URL.Path, body))
	stop := a.stop
	a.mu.Unlock()
	if r.Header.Get(agentapi.TokenHeader) != fakeToken || r.Header.Get("Origin") != "" {
		writeJSON(w, 401, agentapi.Error{Code: agentapi.ErrUnauthorized, Message: "bad token"})
		return
	}
	switch r.Method + " " + r.URL.Path {
	case "GET " + agentapi.PathStatus:
		a.mu.Lock()
		st := a.status
		a.mu.Unlock()
		writeJSON(w, 200, st)
	case "DELETE " + agentapi.PathActivation:
		a.set(func(s *agentapi.Status) {
			s.Activated = false
			s.Entitlement = agentapi.Entitlement{State: agentapi.StateInactive}
		})
		w.WriteHeader(204)
	case "POST " + agentapi.PathActivation:
		p := &agentapi.PendingAuth{UserCode: "ABCD-EFGH", VerificationURI: "https://signin.example/device",
			VerificationURIComplete: "https://signin.example/device?code=ABCD-EFGH", ExpiresAt: time.Now().Add(10 * time.Minute)}
		a.mu.Lock()
		st := a.status
		a.mu.Unlock()
		writeJSON(w, 200, agentapi.ActivateResponse{Status: st, Pending: p})
	case "POST " + agentapi.PathCheck:
		a.mu.Lock()
		fails := a.checkFails
		a.mu.Unlock()
		if fails {
			writeJSON(w, 503, agentapi.Error{Code: agentapi.ErrUnavailable, Message: rawUnavailable})
			return
		}
		writeJSON(w, 200, map[string]bool{"ok": true})
	case "GET " + agentapi.PathEvents:
		ch := make(chan agentapi.Event, 16)
		a.mu.Lock()
		a.subs[ch] = struct{}{}
		a.mu.Unlock()
		defer func() {
			a.mu.Lock()
			delete(a.subs, ch)
			a.mu.Unlock()
		}()
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		fmt.Fprint(w, ": hello\n\n")
		w.(http.Flusher).Flush()
		for {
			select {
			case ev := <-ch:
				b, _ := json.Marshal(ev)
				fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Type, b)
				w.(http.Flusher).Flush()
			case <-stop:
				return
			case <-r.Context().Done():
				return
			}
		}
	default:
		writeJSON(w, 404, agentapi.Error{Code: agentapi.ErrNotFound, Message: r.URL.Path})
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
