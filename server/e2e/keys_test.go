package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/server/servertest"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/testenv"
)

// TestStandbyKeyRotation runs the safe rotation against a running server on
// each database: `keys add` publishes a key on GET /v1/keys while leases are
// still signed with the active one; after `keys activate` new leases carry the
// new key and old leases still verify.
func TestStandbyKeyRotation(t *testing.T) {
	bin := testenv.BuildBinary(t, "./server/cmd/entitle-server")
	for _, db := range servertest.Databases() {
		t.Run(db.Name, func(t *testing.T) {
			dsn := db.DSN(t)
			cli(t, bin, dsn, "", "migrate")
			cli(t, bin, dsn, ownerPass+"\n", "account", "create", "--email", ownerEmail, "--password-stdin")
			var lic accountapi.LicenseJSON
			cliJSON(t, bin, dsn, "", &lic, "license", "create", "--owner", ownerEmail, "--plan", "pro", "--seats", "1")
			type key struct {
				KID, PublicKey, Status string
			}
			show := func() []key {
				t.Helper()
				var out struct {
					Keys []struct {
						KID       string `json:"kid"`
						PublicKey string `json:"public_key"`
						Status    string `json:"status"`
					} `json:"keys"`
				}
				cliJSON(t, bin, dsn, "", &out, "keys", "show")
				var keys []key
				for _, k := range out.Keys {
					keys = append(keys, key{k.KID, k.PublicKey, k.Status})
				}
				return keys
			}
			initial := show()
			if len(initial) != 1 || initial[0].Status != "active" {
				t.Fatalf("keys show: %+v", initial)
			}
			old := initial[0].KID

			srv := startServer(t, bin, "--db", dsn)
			var act protocol.ActivateResponse
			if st := srv.Call(t, http.DefaultClient, "POST", protocol.PathActivations, "", activation(lic.Key, "rotating-laptop"), &act); st != http.StatusCreated {
				t.Fatalf("activate: %d", st)
			}
			checkin := func(s *server) string {
				t.Helper()
				var ci protocol.CheckinResponse
				req := protocol.CheckinRequest{Fingerprint: fingerprint("rotating-laptop")}
				if st := s.Call(t, http.DefaultClient, "POST", protocol.PathCheckin, act.Credential, req, &ci); st != http.StatusOK {
					t.Fatalf("checkin: %d", st)
				}
				return ci.Lease
			}
			published := func(s *server) *lease.KeySet {
				t.Helper()
				var raw json.RawMessage
				if st := s.Call(t, http.DefaultClient, "GET", protocol.PathKeys, "", nil, &raw); st != http.StatusOK {
					t.Fatalf("GET /v1/keys: %d", st)
				}
				ks, err := lease.ParseKeySet(raw)
				if err != nil {
					t.Fatal(err)
				}
				return ks
			}

			var added struct {
				KID       string `json:"kid"`
				PublicKey string `json:"public_key"`
				Status    string `json:"status"`
			}
			cliJSON(t, bin, dsn, "", &added, "keys", "add")
			if added.KID == "" || added.KID == old || added.Status != "standby" || added.PublicKey == "" {
				t.Fatalf("keys add: %+v", added)
			}
			text := cli(t, bin, dsn, "", "keys", "add")
			if !strings.Contains(text, "keys activate ") {
				t.Fatalf("keys add does not say how to activate the key:\n%s", text)
			}
			if ks := published(srv); ks.Len() != 3 {
				t.Fatalf("GET /v1/keys after two keys add: %d keys, want 3", ks.Len())
			}
			if got := leaseKID(t, checkin(srv)); got != old {
				t.Fatalf("after keys add, the server signed with %s; want the active %s", got, old)
			}
			keys := show()
			if len(keys) != 3 || keys[0].KID != old || keys[0].Status != "active" || keys[1].KID != added.KID || keys[1].Status != "standby" || keys[2].Status != "standby" {
				t.Fatalf("keys show after keys add: %+v", keys)
			}

			if _, errOut, err := cliRun(bin, dsn, "", nil, "keys", "activate", "no-such-key"); err == nil || !strings.Contains(errOut, "nothing has this id") {
				t.Fatalf("keys activate no-such-key: %v\n%s", err, errOut)
			}
			cli(t, bin, dsn, "", "keys", "activate", added.KID)
			keys = show()
			if keys[0].Status != "retired" || keys[1].Status != "active" || keys[2].Status != "standby" {
				t.Fatalf("keys show after keys activate: %+v", keys)
			}
			// The running server follows within 30 s; a restarted one at once.
			if err := srv.Stop(); err != nil {
				t.Fatalf("stop: %v\n%s", err, srv.Stderr.String())
			}
			srv = startServer(t, bin, "--db", dsn)
			fresh := checkin(srv)
			if got := leaseKID(t, fresh); got != added.KID {
				t.Fatalf("after keys activate, the server signed with %s; want %s", got, added.KID)
			}
			ks := published(srv)
			for name, tok := range map[string]string{"lease of the old key": act.Lease, "lease of the activated key": fresh} {
				if _, err := lease.Verify(tok, ks, fingerprint("rotating-laptop"), time.Now()); err != nil {
					t.Errorf("%s does not verify with GET /v1/keys: %v", name, err)
				}
			}
		})
	}
}

// leaseKID returns the key id in a lease's JWS header.
func leaseKID(t *testing.T, tok string) string {
	t.Helper()
	head, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatalf("lease header: %v", err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil || h.Kid == "" {
		t.Fatalf("lease header %s: %v", raw, err)
	}
	return h.Kid
}
