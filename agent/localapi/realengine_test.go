package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/agent/engine"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/client"
	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/licensekey"
)

// closedURL returns an http URL on which nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// realEngine builds agent/engine on a fresh (inactive) state folder whose
// licensing server cannot be reached.
func realEngine(t *testing.T) *engine.Engine {
	t.Helper()
	key, err := lease.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := lease.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := lease.NewKeySet(signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.StateDir = t.TempDir()
	cfg.ProfileDir = t.TempDir()
	cfg.ServerURL = closedURL(t)
	cfg.PinnedKeys = []string{lease.EncodePublicKey(signer.Public())}
	eng, err := engine.New(engine.Options{Config: cfg, Fingerprint: strings.Repeat("ab", 32), Keys: keys, Version: "test"})
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return eng
}

func TestRealEngineInactive(t *testing.T) {
	r := start(t, Options{Engine: realEngine(t)})
	resp, body := do(t, "GET", r.url(agentapi.PathEntitlement), "", nil)
	var ent agentapi.Entitlement
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &ent) != nil || ent.Entitled || ent.State != agentapi.StateInactive {
		t.Fatalf("entitlement: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "GET", r.url(agentapi.PathEntitlement+"?feature=sign"), "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"feature":"sign"`) || strings.Contains(body, `"entitled":true`) {
		t.Fatalf("feature entitlement: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "GET", r.url(agentapi.PathStatus), "", authed(nil))
	var st agentapi.Status
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &st) != nil || st.Activated || st.AgentVersion != "test" {
		t.Fatalf("status: %d %s", resp.StatusCode, body)
	}
	// Activating needs the licensing server, which is unreachable.
	key, err := licensekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	resp, body = do(t, "POST", r.url(agentapi.PathActivation), `{"method":"license_key","license_key":"`+key+`"}`, authed(map[string]string{"Content-Type": "application/json"}))
	if resp.StatusCode != 503 || !strings.HasPrefix(body, `{"error":"unavailable"`) {
		t.Fatalf("activate with the server down: %d %s", resp.StatusCode, body)
	}
	t.Logf("activate with the server down: %d %s", resp.StatusCode, strings.TrimSpace(body))
	if strings.Contains(body, key) {
		t.Fatalf("license key echoed in the error: %s", body)
	}
}

func TestRealEngineEvents(t *testing.T) {
	r := start(t, Options{Engine: realEngine(t), Heartbeat: 100 * time.Millisecond})
	s := openEvents(t, r)
	name, ev := s.event(t)
	if name != agentapi.EventStatus || ev.Status == nil || ev.Status.Entitlement.State != agentapi.StateInactive {
		t.Fatalf("first event %s %+v", name, ev)
	}
	// Exactly one status event opens the stream; then heartbeats.
	if f := s.next(t); len(f) != 1 || f[0] != ": heartbeat" {
		t.Fatalf("second frame %q, want a heartbeat", f)
	}
	r.cancel()
	for s.sc.Scan() {
	}
	if err := s.sc.Err(); err != nil {
		t.Fatalf("stream did not end cleanly: %v", err)
	}
}

// TestRealEngineAcceptLanguage: the reason is rendered in the request's
// language, the code and its arguments are the same in every language, and
// the cached English answer is not disturbed by a French one.
func TestRealEngineAcceptLanguage(t *testing.T) {
	r := start(t, Options{Engine: realEngine(t)})
	for _, tc := range []struct {
		accept, reason, lang string
	}{
		{"", "this computer is not activated", "en"},
		{"fr-FR,fr;q=0.9,en;q=0.8", "ce poste n’est pas activé", "fr"},
		{"fr-CA", "ce poste n’est pas activé", "fr"},
		{"de-DE, en;q=0.5", "this computer is not activated", "en"},
		{"xx;;q=bogus", "this computer is not activated", "en"},
		{"", "this computer is not activated", "en"}, // English still cached right after French
	} {
		t.Run(tc.accept, func(t *testing.T) {
			h := map[string]string{}
			if tc.accept != "" {
				h["Accept-Language"] = tc.accept
			}
			for _, path := range []string{agentapi.PathEntitlement, agentapi.PathEntitlement + "?feature=sign"} {
				resp, body := do(t, "GET", r.url(path), "", h)
				var ent agentapi.Entitlement
				if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &ent) != nil {
					t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
				}
				if ent.Reason != tc.reason || ent.ReasonCode != agentapi.ReasonNotActivated || resp.Header.Get("Content-Language") != tc.lang {
					t.Fatalf("%s with Accept-Language %q: reason %q code %q language %q", path, tc.accept, ent.Reason, ent.ReasonCode, resp.Header.Get("Content-Language"))
				}
			}
			resp, body := do(t, "GET", r.url(agentapi.PathStatus), "", authed(h))
			var st agentapi.Status
			if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &st) != nil || st.Entitlement.Reason != tc.reason || resp.Header.Get("Content-Language") != tc.lang {
				t.Fatalf("status: %d %s", resp.StatusCode, body)
			}
		})
	}
}

// TestClientLanguage: pkg/client with Language "fr" gets the reason in
// French and the same stable code, from the real engine and local API.
func TestClientLanguage(t *testing.T) {
	r := start(t, Options{Engine: realEngine(t)})
	key, err := lease.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := lease.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := lease.NewKeySet(signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{"": "this computer is not activated", "fr": "ce poste n’est pas activé"} {
		c, err := client.New(client.Options{BaseURL: r.url(""), Keys: keys, ProductID: "entitle-signing", Language: lang,
			Fingerprint: func() (string, error) { return strings.Repeat("ab", 32), nil }})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CheckFeature(context.Background(), "sign")
		var ne *client.ErrNotEntitled
		if !errors.As(err, &ne) || ne.Reason != want || ne.ReasonCode != agentapi.ReasonNotActivated {
			t.Fatalf("language %q: %#v", lang, err)
		}
	}
}
