package devices_test

import (
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// Issue 16, item 6: the lease answering an activation carries the request's
// nonce, so the agent can refuse an answer recorded for another request;
// a malformed nonce is refused, and a request without one gets none.
func TestActivationLeaseCarriesNonce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, noChurnLimit)
		f.Account("owner@example.com")
		lic := f.License("owner@example.com", 2, time.Time{})
		keys, err := f.Signing.Keys(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, nonce, want string
			code              string
		}{
			{"nonce", "N0nce-of_the-request-1", "N0nce-of_the-request-1", ""},
			{"none", "", "", ""},
			{"too short", "short", "", protocol.ErrInvalidRequest},
			{"bad characters", strings.Repeat("é", 20), "", protocol.ErrInvalidRequest},
			{"too long", strings.Repeat("a", protocol.MaxNonce+1), "", protocol.ErrInvalidRequest},
		}
		for _, tc := range tests {
			req := keyRequest(lic.Key, fp("a"))
			req.Nonce = tc.nonce
			r, err := f.Devices.Activate(f.Ctx, req, "127.0.0.1")
			if tc.code != "" {
				wantCode(t, err, tc.code)
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			c, err := lease.Verify(r.Lease, keys, fp("a"), f.Clock.Now())
			if err != nil || c.Nonce != tc.want {
				t.Fatalf("%s: lease nonce %q, want %q (%v)", tc.name, c.Nonce, tc.want, err)
			}
		}
	})
}
