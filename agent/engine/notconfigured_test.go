package engine

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/lease"
)

// Issue 13, item 2: an agent without pinned keys or a server URL used to
// refuse to start ("engine: no pinned server keys") and crash-loop under
// systemd. It now starts, answers not_configured naming what is missing,
// refuses the operations that need a server, and never calls one.
func TestNotConfigured(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(o *Options)
		missing []string
	}{
		{"no pinned keys", func(o *Options) { o.Keys, _ = lease.NewKeySet(); o.Config.PinnedKeys = nil }, []string{"pinned_keys"}},
		{"no server url", func(o *Options) { o.Config.ServerURL = "" }, []string{"server_url"}},
		{"neither", func(o *Options) {
			o.Keys, _ = lease.NewKeySet()
			o.Config.PinnedKeys, o.Config.ServerURL = nil, ""
		}, []string{"server_url", "pinned_keys"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newTestServer(t)
				dir := t.TempDir()
				// An activation made before the keys were unpinned is not
				// trusted either: nothing can verify its lease.
				activateKey(t, newEngine(t, srv, dir, fpA))
				before := srv.count("/v1/checkin") + srv.count("/v1/activations")
				e := newEngine(t, srv, dir, fpA, tc.mutate, withToken(goodKey, &logBuf{}))
				stop := runEngine(t, e)
				time.Sleep(3 * time.Hour)
				synctest.Wait()
				ent := e.Entitlement("")
				if ent.Entitled || ent.State != agentapi.StateNotConfigured || !strings.Contains(ent.Reason, "not configured") {
					t.Fatalf("entitlement: %+v", ent)
				}
				for _, m := range tc.missing {
					if !strings.Contains(ent.Reason, m) {
						t.Fatalf("reason %q does not name %s", ent.Reason, m)
					}
				}
				if st := e.Status(); !slices.Equal(st.MissingConfig, tc.missing) {
					t.Fatalf("status missing %v, want %v", st.MissingConfig, tc.missing)
				}
				if _, err := e.Activate(context.Background(), agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: goodKey}); apiCode(err) != agentapi.ErrNotConfigured {
					t.Fatalf("activate: %v", err)
				}
				if err := e.CheckNow(context.Background()); apiCode(err) != agentapi.ErrNotConfigured {
					t.Fatalf("check: %v", err)
				}
				if err := e.Deactivate(context.Background()); apiCode(err) != agentapi.ErrNotConfigured {
					t.Fatalf("deactivate: %v", err)
				}
				stop()
				if n := srv.count("/v1/checkin") + srv.count("/v1/activations") - before; n != 0 {
					t.Fatalf("%d server calls while not configured", n)
				}
			})
		})
	}
	if got := (config.Config{}).Missing(); !slices.Equal(got, []string{"server_url", "pinned_keys"}) {
		t.Fatalf("Missing of an empty config: %v", got)
	}
}
