package localapi

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

// TestEntitlementHeadersOnTheWire reads the entitlement answer from a real
// listener, short (net/http names its length) and long (the handler does),
// and checks that both carry a right Content-Length and are not chunked.
func TestEntitlementHeadersOnTheWire(t *testing.T) {
	for _, leaseLen := range []int{100, 4000} {
		t.Run(strconv.Itoa(leaseLen), func(t *testing.T) {
			eng := newScripted()
			eng.ent.Store(&agentapi.Entitlement{Entitled: true, State: agentapi.StateActive, Reason: "licensed", Plan: "pro",
				Lease: strings.Repeat("x", leaseLen), CheckedAt: time.Unix(1700000000, 0).UTC()})
			r := start(t, Options{Engine: eng})
			resp, err := http.Get(r.url(agentapi.PathEntitlement))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("status %d, %v", resp.StatusCode, err)
			}
			if len(resp.TransferEncoding) != 0 || resp.ContentLength != int64(len(body)) {
				t.Fatalf("Transfer-Encoding %v, Content-Length %d, body %d bytes", resp.TransferEncoding, resp.ContentLength, len(body))
			}
			for _, sh := range securityHeaders {
				if got := resp.Header.Get(sh.key); got != sh.val[0] {
					t.Errorf("%s: %q, want %q", sh.key, got, sh.val[0])
				}
			}
		})
	}
}
