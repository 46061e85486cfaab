package engine

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/agent/state"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/protocol"
)

// logBuf is a concurrency-safe log sink, to prove what was (not) logged.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// withToken configures tok as the enrollment token and captures the logs.
func withToken(tok string, logs *logBuf) opt {
	return func(o *Options) {
		o.Config.EnrollmentToken = config.Secret(tok)
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// noTokenIn fails when any spelling of tok appears in out.
func noTokenIn(t *testing.T, tok, out string) {
	t.Helper()
	spellings := []string{tok, strings.ToLower(tok)}
	if norm, err := licensekey.Normalize(tok); err == nil {
		spellings = append(spellings, norm, licensekey.Format(norm))
	}
	for _, s := range spellings {
		if s != "" && strings.Contains(out, s) {
			t.Fatalf("the enrollment token leaked:\n%s", out)
		}
	}
}

func stateFileExists(t *testing.T, dir string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(dir, state.FileName))
	return err == nil
}

// runEngine starts e.Run and returns a function that stops it and checks
// Run's result; it also runs at cleanup, so a failing test never leaves Run
// behind in its synctest bubble.
func runEngine(t *testing.T, e *Engine) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	t.Cleanup(stop)
	return stop
}

// A fresh state folder and a token: the engine activates by itself, without
// anyone calling Activate, and the token is never logged or stored.
func TestEnrollFreshState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newTestServer(t)
		dir := t.TempDir()
		var logs logBuf
		tok := " " + strings.ToLower(goodKey) + " " // normalized like a typed key
		e := newEngine(t, srv, dir, fpA, withToken(tok, &logs))
		if e.Status().Activated || stateFileExists(t, dir) {
			t.Fatal("activated before Run")
		}
		stop := runEngine(t, e)
		synctest.Wait()
		ent := e.Entitlement("")
		if !ent.Entitled || ent.State != agentapi.StateActive || !e.Status().Activated || e.Status().LastError != "" {
			t.Fatalf("not enrolled: %+v %q", ent, e.Status().LastError)
		}
		if n := srv.count(protocol.PathActivations); n != 1 || srv.activeSeats() != 1 {
			t.Fatalf("%d activation requests, %d seats", n, srv.activeSeats())
		}
		// It keeps checking in and never activates again.
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		if n := srv.count(protocol.PathActivations); n != 1 || srv.count(protocol.PathCheckin) == 0 {
			t.Fatalf("%d activations, %d check-ins", n, srv.count(protocol.PathCheckin))
		}
		stop()
		data, err := os.ReadFile(filepath.Join(dir, state.FileName))
		if err != nil {
			t.Fatal(err)
		}
		noTokenIn(t, goodKey, string(data))
		noTokenIn(t, goodKey, logs.String())
		if !strings.Contains(logs.String(), "enrollment_token") {
			t.Fatalf("enrollment not logged:\n%s", logs.String())
		}
		// Restarted with the same token: activated, nothing sent again.
		e2 := newEngine(t, srv, dir, fpA, withToken(goodKey, &logs))
		stop = runEngine(t, e2)
		synctest.Wait()
		stop()
		if !e2.Status().Activated || srv.count(protocol.PathActivations) != 1 {
			t.Fatal("re-enrolled an activated computer")
		}
	})
}

// A state folder that held an activation (or anything a person did) is
// never activated by the token: a person deactivating the computer, to move
// the license to a new one, must stick.
func TestEnrollNotAfterActivation(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, srv *testServer, dir string)
	}{
		{"deactivated by a person", func(t *testing.T, srv *testServer, dir string) {
			e := newEngine(t, srv, dir, fpA)
			activateKey(t, e)
			if err := e.Deactivate(context.Background()); err != nil {
				t.Fatal(err)
			}
		}},
		{"deactivated by the server", func(t *testing.T, srv *testServer, dir string) {
			e := newEngine(t, srv, dir, fpA)
			activateKey(t, e)
			srv.set(func(s *testServer) {
				for _, d := range s.devices {
					d.revoked = true
				}
			})
			if err := e.CheckNow(context.Background()); apiCode(err) != agentapi.ErrDeviceRevoked {
				t.Fatalf("check-in after revocation: %v", err)
			}
		}},
		{"browser sign-in denied", func(t *testing.T, srv *testServer, dir string) {
			e := newEngine(t, srv, dir, fpA)
			if _, err := e.Activate(context.Background(), agentapi.ActivateRequest{Method: agentapi.ActivateBrowser}); err != nil {
				t.Fatal(err)
			}
			srv.set(func(s *testServer) { s.authState = "denied" })
			if err := e.CheckNow(context.Background()); err != nil {
				t.Fatal(err)
			}
		}},
		{"unreadable state file", func(t *testing.T, srv *testServer, dir string) {
			if err := os.WriteFile(filepath.Join(dir, state.FileName), []byte("{"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newTestServer(t)
				dir := t.TempDir()
				tc.setup(t, srv, dir)
				if !stateFileExists(t, dir) {
					t.Fatal("setup left no state file")
				}
				before := srv.count(protocol.PathActivations)
				var logs logBuf
				e := newEngine(t, srv, dir, fpA, withToken(goodKey, &logs))
				stop := runEngine(t, e)
				time.Sleep(time.Hour)
				synctest.Wait()
				stop()
				if e.Status().Activated || e.Entitlement("").Entitled {
					t.Fatalf("re-activated by the token: %+v", e.Entitlement(""))
				}
				if n := srv.count(protocol.PathActivations); n != before {
					t.Fatalf("%d activation requests with the token", n-before)
				}
				noTokenIn(t, goodKey, logs.String())
			})
		})
	}
}

// While the server cannot be reached (or fails), enrollment retries with
// the check-in backoff and never writes a state file, so it survives a
// restart; once the server is back the computer activates.
func TestEnrollRetriesWithBackoff(t *testing.T) {
	tests := []struct {
		name string
		down func(s *testServer, down bool)
		want string
	}{
		{"unreachable", func(s *testServer, down bool) { s.unreachable = down }, "cannot reach the licensing server"},
		{"server error", func(s *testServer, down bool) { s.down = down }, "maintenance"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newTestServer(t)
				srv.set(func(s *testServer) { tc.down(s, true) })
				dir := t.TempDir()
				var logs logBuf
				e := newEngine(t, srv, dir, fpA, withToken(goodKey, &logs))
				e.jitter = func() float64 { return 0.999 } // the longest wait of each step
				stop := runEngine(t, e)
				synctest.Wait()
				st := e.Status()
				if st.Activated || !strings.Contains(st.LastError, "will retry") || !strings.Contains(st.LastError, tc.want) {
					t.Fatalf("first failure: activated %v, last error %q", st.Activated, st.LastError)
				}
				if st.LastErrorCode != agentapi.ProblemEnrollmentRetrying || st.LastErrorArgs["error"] == "" {
					t.Fatalf("first failure: last error code %q args %v", st.LastErrorCode, st.LastErrorArgs)
				}
				attempts := func() int { // every attempt so far failed
					e.mu.Lock()
					defer e.mu.Unlock()
					return e.enrollFailures
				}
				// Waits of about 5, 10, 20, 40, 80, 160, 320 s... never a tight loop.
				time.Sleep(4 * time.Second)
				synctest.Wait()
				if n := attempts(); n != 1 {
					t.Fatalf("%d attempts in the first 4 s", n)
				}
				time.Sleep(30 * time.Minute)
				synctest.Wait()
				if n := attempts(); n < 5 || n > 12 {
					t.Fatalf("%d attempts in 30 minutes", n)
				}
				// What is written before any activation is the record of the
				// attempt (its nonce, not the token), which keeps the folder
				// untouched for enrollment.
				if stateFileExists(t, dir) {
					saved, err := state.NewStore(dir).Load()
					if err != nil || !onlyEnrollment(&saved) {
						t.Fatalf("the state folder holds more than the enrollment attempt: %+v %v", saved, err)
					}
					data, _ := os.ReadFile(filepath.Join(dir, state.FileName))
					noTokenIn(t, goodKey, string(data))
				}
				// A restart still enrolls.
				stop()
				e = newEngine(t, srv, dir, fpA, withToken(goodKey, &logs))
				stop = runEngine(t, e)
				srv.set(func(s *testServer) { tc.down(s, false) })
				time.Sleep(BackoffBase + time.Second)
				synctest.Wait()
				if ent := e.Entitlement(""); ent.State != agentapi.StateActive || e.Status().LastError != "" {
					t.Fatalf("not enrolled after the server came back: %+v %q", ent, e.Status().LastError)
				}
				stop()
				noTokenIn(t, goodKey, logs.String())
			})
		})
	}
}

// The server coming back while Run keeps retrying: the backoff's next
// attempt activates.
func TestEnrollAfterOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newTestServer(t)
		srv.unreachable = true
		var logs logBuf
		e := newEngine(t, srv, t.TempDir(), fpA, withToken(goodKey, &logs))
		runEngine(t, e)
		time.Sleep(20 * time.Minute)
		synctest.Wait()
		if e.Status().Activated {
			t.Fatal("activated while the server was down")
		}
		srv.set(func(s *testServer) { s.unreachable = false })
		time.Sleep(BackoffMax + time.Second)
		synctest.Wait()
		if ent := e.Entitlement(""); ent.State != agentapi.StateActive {
			t.Fatalf("not activated after the outage: %+v", ent)
		}
		noTokenIn(t, goodKey, logs.String())
	})
}

// A definitive refusal stops enrollment for good (until a restart), with
// the reason in Status.LastError; a malformed token is never sent.
func TestEnrollRefused(t *testing.T) {
	tests := []struct {
		name     string
		token    string
		setup    func(s *testServer)
		requests int
		want     string
		// The code and arguments clients word (pkg/statustext).
		code string
		args map[string]string
	}{
		{"unknown license", otherKey, nil, 1, "no such license key", agentapi.ProblemEnrollmentRefused, map[string]string{"error": agentapi.ErrUnknownLicense}},
		{"no seats", goodKey, func(s *testServer) { s.seats = 0 }, 1, "all 0 seats are in use", agentapi.ProblemEnrollmentRefused, map[string]string{"error": agentapi.ErrNoSeats}},
		{"malformed token", "NOT-A-KEY-0000", nil, 0, "not a valid license key", agentapi.ProblemEnrollmentTokenInvalid, map[string]string{"kind": "license_key"}},
		{"mistyped token", goodKey[:len(goodKey)-1] + flipChar(goodKey[len(goodKey)-1]), nil, 0, "not a valid license key", agentapi.ProblemEnrollmentTokenInvalid, map[string]string{"kind": "license_key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newTestServer(t)
				if tc.setup != nil {
					srv.set(tc.setup)
				}
				var logs logBuf
				e := newEngine(t, srv, t.TempDir(), fpA, withToken(tc.token, &logs))
				stop := runEngine(t, e)
				time.Sleep(2 * time.Hour)
				synctest.Wait()
				st := e.Status()
				if st.Activated || !strings.Contains(st.LastError, tc.want) || !strings.Contains(st.LastError, "enrollment token") {
					t.Fatalf("activated %v, last error %q", st.Activated, st.LastError)
				}
				if st.LastErrorCode != tc.code || !maps.Equal(st.LastErrorArgs, tc.args) {
					t.Fatalf("last error code %q args %v, want %q %v", st.LastErrorCode, st.LastErrorArgs, tc.code, tc.args)
				}
				if n := srv.count(protocol.PathActivations); n != tc.requests {
					t.Fatalf("%d activation requests, want %d (no retry after a refusal)", n, tc.requests)
				}
				noTokenIn(t, tc.token, st.LastError)
				noTokenIn(t, tc.token, logs.String())
				// A person can still activate by hand (with seats to spare).
				srv.set(func(s *testServer) { s.seats = 3 })
				activateKey(t, e)
				if !e.Status().Activated || e.Status().LastError != "" {
					t.Fatalf("manual activation: %+v", e.Status())
				}
				stop()
			})
		})
	}
}

// A person activating (or starting a browser sign-in) while enrollment is
// retrying ends enrollment: the token never replaces their choice.
func TestEnrollYieldsToPerson(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newTestServer(t)
		srv.down = true
		var logs logBuf
		e := newEngine(t, srv, t.TempDir(), fpA, withToken(goodKey, &logs))
		runEngine(t, e)
		synctest.Wait()
		srv.set(func(s *testServer) { s.down = false })
		if _, err := e.Activate(context.Background(), agentapi.ActivateRequest{Method: agentapi.ActivateBrowser}); err != nil {
			t.Fatal(err)
		}
		before := srv.count(protocol.PathActivations)
		time.Sleep(time.Hour)
		synctest.Wait()
		if n := srv.count(protocol.PathActivations); n != before {
			t.Fatalf("%d enrollment attempts during a person's sign-in", n-before)
		}
		if e.Status().Activated {
			t.Fatal("activated without the person's sign-in")
		}
	})
}

// flipChar returns a valid key character other than c: a one-character
// typo that the key's check character catches.
func flipChar(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}
