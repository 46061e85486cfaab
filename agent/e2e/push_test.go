package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/testenv"
)

// slowServer restarts the world's server with hour-long leases and check-in
// intervals, so only the push stream can make an agent learn anything fast.
func (w *world) slowServer() {
	w.t.Helper()
	w.server.stop(w.t)
	addrFile := filepath.Join(w.dir, "server.addr")
	os.Remove(addrFile)
	w.server = start(w.t, "server", w.serverBin, "serve", "--listen", w.listen, "--addr-file", addrFile, "--db", w.db,
		"--offline-grace", "1h", "--checkin-interval", "1h", "--limit-activations", "off")
	testenv.ReadAddrFile(w.t, addrFile, 20*time.Second)
}

func (w *world) session() string {
	w.t.Helper()
	var s accountapi.SessionResponse
	if code := w.api("POST", accountapi.PathSessions, "", accountapi.SessionRequest{Email: w.email, Password: w.password}, &s); code != http.StatusCreated {
		w.t.Fatalf("POST /v1/sessions: %d", code)
	}
	return s.Token
}

func (a *agent) waitDelivery(timeout time.Duration, want string) {
	a.w.t.Helper()
	testenv.WaitFor(a.w.t, timeout, "delivery "+want, func() bool { return a.status().Delivery == want })
}

// within waits for the agent to reach a state, failing when it took longer
// than limit (the "within 2 seconds" for an online computer).
func (a *agent) within(limit time.Duration, want agentapi.State) {
	a.w.t.Helper()
	start := time.Now()
	a.waitState(limit+5*time.Second, want)
	if took := time.Since(start); took > limit {
		a.w.t.Fatalf("the agent reached %s after %s, want within %s", want, took.Round(time.Millisecond), limit)
	}
}

// TestRemoteCommandsPushed: an owner's commands reach an online computer
// through its push stream within 2 seconds although its next check-in is an
// hour away: suspend, resume, release. A local-only license refuses them.
func TestRemoteCommandsPushed(t *testing.T) {
	w := newWorld(t)
	w.slowServer()
	key := w.createLicense("local_remote", 2)
	a := w.startAgent(filepath.Join(t.TempDir(), "state"))
	if _, err := a.cli("", "activate", "--license-key", key); err != nil {
		t.Fatal(err)
	}
	a.waitDelivery(15*time.Second, agentapi.DeliveryStream)
	dev := a.status().Entitlement.DeviceID
	tok := w.session()
	path := "/v1/account/devices/" + dev + "/commands"

	var rec accountapi.CommandJSON
	if code := w.api("POST", path, tok, accountapi.CommandRequest{Type: protocol.CmdSuspend}, &rec); code != http.StatusCreated {
		t.Fatalf("queue suspend: %d", code)
	}
	a.within(2*time.Second, agentapi.StateSuspended)
	if code := w.api("POST", path, tok, accountapi.CommandRequest{Type: protocol.CmdResume}, nil); code != http.StatusCreated {
		t.Fatalf("queue resume: %d", code)
	}
	a.within(2*time.Second, agentapi.StateActive)

	// The outcomes reach the server: every command ends succeeded.
	testenv.WaitFor(t, 10*time.Second, "command outcomes", func() bool {
		var page struct{ Items []accountapi.CommandJSON }
		w.api("GET", path, tok, nil, &page)
		done := 0
		for _, c := range page.Items {
			if c.Status == protocol.CommandSucceeded {
				done++
			}
		}
		return done == 2
	})

	// The owner releases the computer: it learns at once, the seat is free.
	if code := w.api("DELETE", "/v1/account/devices/"+dev, tok, nil, nil); code != http.StatusNoContent {
		t.Fatalf("release: %d", code)
	}
	a.within(2*time.Second, agentapi.StateInactive)

	// Local only: the server refuses to queue.
	local := w.createLicense("local", 1)
	b := w.startAgent(filepath.Join(t.TempDir(), "state-local"))
	if _, err := b.cli("", "activate", "--license-key", local); err != nil {
		t.Fatal(err)
	}
	var pe protocol.Error
	if code := w.api("POST", "/v1/account/devices/"+b.status().Entitlement.DeviceID+"/commands", tok,
		accountapi.CommandRequest{Type: protocol.CmdSuspend}, &pe); code != http.StatusConflict || pe.Code != protocol.ErrLocalOnly {
		t.Fatalf("command for a local-only computer: %d %+v", code, pe)
	}
}

// bufferingProxy forwards requests to upstream but holds every answer until
// it is complete, as some corporate proxies do: a push stream never gets
// through, a long poll does.
func bufferingProxy(t *testing.T, upstream string) string {
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		out, err := http.NewRequestWithContext(r.Context(), r.Method, u.Scheme+"://"+u.Host+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		all, err := io.ReadAll(resp.Body) // the buffering
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(all)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestPushThroughBufferingProxy: behind a proxy that buffers the stream the
// agent falls back to long polling by itself, says so in its status, and a
// command still arrives at once.
func TestPushThroughBufferingProxy(t *testing.T) {
	w := newWorld(t)
	w.slowServer()
	key := w.createLicense("local_remote", 1)
	direct := w.serverURL
	w.serverURL = bufferingProxy(t, direct) // the agent's server URL
	a := w.startAgent(filepath.Join(t.TempDir(), "state"))
	w.serverURL = direct
	if _, err := a.cli("", "activate", "--license-key", key); err != nil {
		t.Fatal(err)
	}
	a.waitDelivery(90*time.Second, agentapi.DeliveryLongPoll)
	dev := a.status().Entitlement.DeviceID
	if code := w.api("POST", "/v1/account/devices/"+dev+"/commands", w.session(), accountapi.CommandRequest{Type: protocol.CmdSuspend}, nil); code != http.StatusCreated {
		t.Fatalf("queue suspend: %d", code)
	}
	a.within(3*time.Second, agentapi.StateSuspended)
}

// TestPushAcrossInstances: two server instances on one PostgreSQL database;
// the agent holds its stream on instance B, the owner queues through
// instance A, and the computer obeys within 2 seconds (LISTEN/NOTIFY).
func TestPushAcrossInstances(t *testing.T) {
	w := newWorldOn(t, testenv.PostgresDB(t))
	w.slowServer() // instance A, at w.serverURL
	addrB := filepath.Join(w.dir, "server-b.addr")
	start(t, "server-b", w.serverBin, "serve", "--listen", "127.0.0.1:0", "--addr-file", addrB, "--db", w.db,
		"--offline-grace", "1h", "--checkin-interval", "1h", "--limit-activations", "off")
	urlB := "http://" + testenv.ReadAddrFile(t, addrB, 20*time.Second)
	key := w.createLicense("local_remote", 2)
	urlA := w.serverURL
	w.serverURL = urlB
	a := w.startAgent(filepath.Join(t.TempDir(), "state"))
	w.serverURL = urlA
	if _, err := a.cli("", "activate", "--license-key", key); err != nil {
		t.Fatal(err)
	}
	a.waitDelivery(15*time.Second, agentapi.DeliveryStream)
	dev := a.status().Entitlement.DeviceID
	if code := w.api("POST", "/v1/account/devices/"+dev+"/commands", w.session(), accountapi.CommandRequest{Type: protocol.CmdDeactivate}, nil); code != http.StatusCreated {
		t.Fatalf("queue deactivate through A: %d", code)
	}
	a.within(2*time.Second, agentapi.StateInactive)
}
