package localapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/agent/engine"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/protocol"
)

// engineAgainst builds the real engine on a fresh state folder, talking to
// the licensing server at url.
func engineAgainst(t *testing.T, url string) *engine.Engine {
	t.Helper()
	key, _ := lease.GenerateKey()
	signer, _ := lease.NewSigner(key)
	keys, err := lease.NewKeySet(signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.StateDir, cfg.ProfileDir, cfg.ServerURL = t.TempDir(), t.TempDir(), url
	cfg.PinnedKeys = []string{lease.EncodePublicKey(signer.Public())}
	eng, err := engine.New(engine.Options{Config: cfg, Fingerprint: strings.Repeat("ab", 32), Keys: keys, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// Issue 13, item 6: every refusal of the licensing server reaches the local
// API's caller with its own status and code (a wrong password is 401, a
// lockout 429), and only a failing server is 502 (an unreachable one 503).
// Before, all of them were 502 server_error. The server side of the table
// is protocol.HTTPStatus, the contract the real server follows.
func TestServerCodesMapped(t *testing.T) {
	tests := []struct {
		server     string // protocol code the licensing server answers
		status     int    // HTTP status it uses; 0 = protocol.HTTPStatus(server)
		wantStatus int
		wantCode   string
	}{
		{protocol.ErrInvalidCredentials, 0, 401, agentapi.ErrInvalidCredentials},
		{protocol.ErrRateLimited, 0, 429, agentapi.ErrRateLimited},
		{protocol.ErrUnknownLicense, 0, 404, agentapi.ErrUnknownLicense},
		{protocol.ErrNoSeats, 0, 409, agentapi.ErrNoSeats},
		{protocol.ErrNoLicense, 0, 409, agentapi.ErrNoLicense},
		{protocol.ErrLicenseSuspended, 0, 403, agentapi.ErrLicenseSuspended},
		{protocol.ErrDeviceSuspended, 0, 403, agentapi.ErrLicenseSuspended},
		{protocol.ErrCommandPending, 0, 502, agentapi.ErrUpstream},
		{protocol.ErrLocalOnly, 0, 502, agentapi.ErrUpstream},
		{protocol.ErrLicenseExpired, 0, 403, agentapi.ErrLicenseExpired},
		{protocol.ErrManagedRemotely, 0, 403, agentapi.ErrManagedRemotely},
		{protocol.ErrDeviceRevoked, 0, 410, agentapi.ErrDeviceRevoked},
		{protocol.ErrLicenseRevoked, 0, 410, agentapi.ErrDeviceRevoked},
		{protocol.ErrInvalidRequest, 0, 400, agentapi.ErrBadRequest},
		{protocol.ErrAccessDenied, 0, 403, agentapi.ErrForbidden},
		{protocol.ErrEnrollmentRefused, 0, 403, agentapi.ErrForbidden},
		{protocol.ErrWorkspaceNameTaken, 0, 502, agentapi.ErrUpstream},
		{protocol.ErrLicenseInWorkspace, 0, 502, agentapi.ErrUpstream},
		{protocol.ErrExpiredToken, 0, 409, agentapi.ErrConflict},
		{protocol.ErrInternal, 0, 502, agentapi.ErrUpstream},
		{protocol.ErrNotFound, 0, 502, agentapi.ErrUpstream},
		{protocol.ErrTooLarge, 0, 502, agentapi.ErrUpstream},
		{protocol.ErrAuthorizationPending, 0, 502, agentapi.ErrUpstream},
		{"", 503, 502, agentapi.ErrUpstream},
		{"something_new", 418, 502, agentapi.ErrUpstream},
		{protocol.ErrNoSeats, 500, 502, agentapi.ErrUpstream}, // a 5xx is a failure whatever its code
	}
	key, _ := licensekey.Generate()
	for _, tc := range tests {
		t.Run(tc.server+"_"+http.StatusText(tc.status), func(t *testing.T) {
			status := tc.status
			if status == 0 {
				status = protocol.HTTPStatus(tc.server)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				json.NewEncoder(w).Encode(protocol.Error{Code: tc.server, Message: "the server's words about " + key})
			}))
			defer srv.Close()
			r := start(t, Options{Engine: engineAgainst(t, srv.URL)})
			for _, body := range []string{
				`{"method":"license_key","license_key":"` + key + `"}`,
				`{"method":"password","email":"ann@example.com","password":"wrong"}`,
			} {
				resp, out := do(t, "POST", r.url(agentapi.PathActivation), body, authed(map[string]string{"Content-Type": "application/json"}))
				var e agentapi.Error
				if json.Unmarshal([]byte(out), &e) != nil || resp.StatusCode != tc.wantStatus || e.Code != tc.wantCode {
					t.Fatalf("server %d %q: local API %d %s, want %d %s", status, tc.server, resp.StatusCode, out, tc.wantStatus, tc.wantCode)
				}
				if agentapi.HTTPStatus(e.Code) != resp.StatusCode {
					t.Fatalf("code %s answered with %d, agentapi.HTTPStatus says %d", e.Code, resp.StatusCode, agentapi.HTTPStatus(e.Code))
				}
				if strings.Contains(out, key) || !strings.Contains(out, "the server's words") {
					t.Fatalf("message: %s", out)
				}
			}
		})
	}
}
