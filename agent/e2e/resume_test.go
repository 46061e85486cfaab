package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
)

// Issue 16, item 9: the agent is killed after the server committed the
// activation and before the agent saved the answer. Between the real agent
// and the real server sits a relay that, on the activation, lets the server
// answer, then SIGKILLs the agent before the answer reaches it. The
// restarted agent must finish that activation by itself, on the seat it
// already took; before, it said "not activated" while the seat stayed held.
func TestActivationResumesAfterKill(t *testing.T) {
	w := newWorld(t)
	var victim atomic.Pointer[proc]
	var killed atomic.Bool
	target := w.serverURL
	relay := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, protocol.MaxBodyBytes))
		req, err := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		if r.URL.Path == protocol.PathActivations && resp.StatusCode/100 == 2 && killed.CompareAndSwap(false, true) {
			victim.Load().kill() // the server committed; the agent never hears it
			panic(http.ErrAbortHandler)
		}
		for k, v := range resp.Header {
			rw.Header()[k] = v
		}
		rw.WriteHeader(resp.StatusCode)
		rw.Write(answer)
	}))
	defer relay.Close()
	w.serverURL = relay.URL

	stateDir := filepath.Join(t.TempDir(), "state")
	a := w.startAgent(stateDir)
	victim.Store(a.p)
	if _, err := a.cli("", "activate", "--license-key", w.key); err == nil {
		t.Fatal("activation succeeded although the agent was killed before the answer")
	}
	if !killed.Load() {
		t.Fatal("the relay never saw the activation")
	}
	if n := w.seatsUsed(); n != 1 {
		t.Fatalf("%d seats used after the server's commit, want 1", n)
	}
	a = w.startAgent(stateDir)
	st := a.waitState(30*time.Second, agentapi.StateActive)
	if !st.Activated || st.LastError != "" {
		t.Fatalf("after restart: %+v", st)
	}
	if n := w.seatsUsed(); n != 1 {
		t.Fatalf("%d seats used after the resumed activation, want 1 (the same seat)", n)
	}
	// The resumed activation is a real one: deactivating frees the seat.
	if _, err := a.cli("", "deactivate", "--yes"); err != nil {
		t.Fatal(err)
	}
	if n := w.seatsUsed(); n != 0 {
		t.Fatalf("%d seats used after deactivation", n)
	}
}
