package client

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/agent/engine"
	"github.com/entitle/entitle/agent/localapi"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/lease"
)

// TestRealAgentInactive runs agent/engine behind agent/localapi on a fresh
// state folder: the client must report "not entitled (inactive)".
func TestRealAgentInactive(t *testing.T) {
	f := newFixture(t)
	cfg := config.Defaults()
	cfg.StateDir, cfg.ProfileDir = t.TempDir(), t.TempDir()
	cfg.ServerURL = "http://127.0.0.1:9"
	cfg.PinnedKeys = []string{lease.EncodePublicKey(f.pinned.Public())}
	eng, err := engine.New(engine.Options{Config: cfg, Fingerprint: myFP, Keys: f.keys})
	if err != nil {
		t.Fatal(err)
	}
	api, err := localapi.New(localapi.Options{Engine: eng, Token: strings.Repeat("ab", 32)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := localapi.Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	c, err := New(Options{BaseURL: "http://" + ln.Addr().String(), Keys: f.keys, ProductID: cfg.ProductID,
		Fingerprint: func() (string, error) { return myFP, nil }, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, feature := range []string{"", "sign"} {
		var res *Result
		if feature == "" {
			res, err = c.Check(context.Background())
		} else {
			res, err = c.CheckFeature(context.Background(), feature)
		}
		var ne *ErrNotEntitled
		if res != nil || !errors.As(err, &ne) || ne.State != agentapi.StateInactive {
			t.Fatalf("feature %q: %+v, %v; want ErrNotEntitled{inactive}", feature, res, err)
		}
	}
}
