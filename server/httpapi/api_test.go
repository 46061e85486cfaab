package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func activation(key, name string) protocol.ActivateRequest {
	return protocol.ActivateRequest{
		Method: protocol.MethodLicenseKey, LicenseKey: key, Fingerprint: apitest.Fingerprint(name), Product: "entitle",
		Device: protocol.DeviceFacts{Hostname: name, OS: "linux", Arch: "amd64", AgentVersion: "test"},
	}
}

func keySet(t *testing.T, e *apitest.Env) *lease.KeySet {
	t.Helper()
	resp, err := e.Server.Client().Get(e.URL(protocol.PathKeys))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	ks, err := lease.ParseKeySet(b)
	if err != nil {
		t.Fatalf("GET /v1/keys: %v (%s)", err, b)
	}
	return ks
}

func seatsUsed(t *testing.T, e *apitest.Env, licenseID string) int {
	t.Helper()
	ls, err := e.App.Licenses.ListLicenses(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.ID == licenseID {
			return l.SeatsUsed
		}
	}
	t.Fatalf("license %s not listed", licenseID)
	return 0
}

func TestDeviceLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		lic := e.Account(t, "owner@example.com", "correct horse battery", 2, time.Now().AddDate(1, 0, 0))
		ks := keySet(t, e)

		var first protocol.ActivateResponse
		if st := e.Do(t, "POST", protocol.PathActivations, "", activation(lic.Key, "laptop"), &first); st != http.StatusCreated {
			t.Fatalf("activate: status %d", st)
		}
		claims, err := lease.Verify(first.Lease, ks, apitest.Fingerprint("laptop"), time.Now())
		if err != nil {
			t.Fatalf("lease does not verify with GET /v1/keys: %v", err)
		}
		if claims.DeviceID() != first.DeviceID || first.SeatsUsed != 1 || first.SeatsTotal != 2 {
			t.Fatalf("activation %+v, claims subject %s", first, claims.DeviceID())
		}

		var again protocol.ActivateResponse
		if st := e.Do(t, "POST", protocol.PathActivations, "", activation(lic.Key, "laptop"), &again); st != http.StatusOK || !again.Existing || again.DeviceID != first.DeviceID {
			t.Fatalf("re-activation: status %d, %+v", st, again)
		}
		if n := seatsUsed(t, e, lic.ID); n != 1 {
			t.Fatalf("re-activation took another seat: %d used", n)
		}

		checkin := protocol.CheckinRequest{Fingerprint: apitest.Fingerprint("laptop"), Device: protocol.DeviceFacts{Hostname: "laptop", OS: "linux"}}
		var ci protocol.CheckinResponse
		if st := e.Do(t, "POST", protocol.PathCheckin, again.Credential, checkin, &ci); st != http.StatusOK {
			t.Fatalf("checkin: status %d", st)
		}
		if _, err := lease.Verify(ci.Lease, ks, apitest.Fingerprint("laptop"), time.Now()); err != nil || ci.Commands == nil {
			t.Fatalf("checkin lease: %v, commands %v", err, ci.Commands)
		}

		var pe protocol.Error
		if st := e.Do(t, "POST", protocol.PathCheckin, "not-a-credential", checkin, &pe); st != http.StatusUnauthorized || pe.Code != protocol.ErrInvalidCredentials {
			t.Fatalf("checkin with a bad credential: %d %+v", st, pe)
		}
		if st := e.Do(t, "POST", protocol.PathCheckin, "", checkin, &pe); st != http.StatusUnauthorized {
			t.Fatalf("checkin without credential: %d", st)
		}

		if st := e.Do(t, "DELETE", protocol.PathDevice, again.Credential, nil, nil); st != http.StatusNoContent {
			t.Fatalf("deactivate: status %d", st)
		}
		if n := seatsUsed(t, e, lic.ID); n != 0 {
			t.Fatalf("deactivation did not free the seat: %d used", n)
		}
		pe = protocol.Error{}
		if st := e.Do(t, "POST", protocol.PathCheckin, again.Credential, checkin, &pe); st < 400 || pe.Code == "" {
			t.Fatalf("checkin after deactivation: %d %+v", st, pe)
		}
		if strings.Contains(e.Logs.String(), again.Credential) || strings.Contains(e.Logs.String(), lic.Key) {
			t.Fatal("a credential or license key reached the log")
		}
	})
}

// TestRejectedRequests sends bad requests and checks that each is refused
// with the documented error and that no seat was taken.
func TestRejectedRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		lic := e.Account(t, "owner@example.com", "correct horse battery", 1, time.Now().AddDate(1, 0, 0))
		good := `{"method":"license_key","license_key":"` + lic.Key + `","fingerprint":"` + apitest.Fingerprint("pc") + `","product":"entitle"}`
		tests := []struct {
			name, ctype, body string
			status            int
			code              string
		}{
			{"malformed JSON", "application/json", `{"method":`, 400, protocol.ErrInvalidRequest},
			{"not an object", "application/json", `[1,2]`, 400, protocol.ErrInvalidRequest},
			{"empty body", "application/json", ``, 400, protocol.ErrInvalidRequest},
			{"unknown field", "application/json", strings.Replace(good, `{`, `{"admin":true,`, 1), 400, protocol.ErrInvalidRequest},
			{"trailing data", "application/json", good + `{}`, 400, protocol.ErrInvalidRequest},
			{"wrong content type", "text/plain", good, 400, protocol.ErrInvalidRequest},
			{"oversize", "application/json", `{"method":"license_key","product":"` + strings.Repeat("x", protocol.MaxBodyBytes) + `"}`, 413, protocol.ErrTooLarge},
			{"bad fingerprint", "application/json", strings.Replace(good, apitest.Fingerprint("pc"), "ABC", 1), 400, protocol.ErrInvalidRequest},
			{"bad method", "application/json", strings.Replace(good, `"license_key","license`, `"magic","license`, 1), 400, protocol.ErrInvalidRequest},
			{"wrong password", "application/json", `{"method":"password","email":"owner@example.com","password":"not the password","fingerprint":"` + apitest.Fingerprint("pc") + `","product":"entitle"}`, 401, protocol.ErrInvalidCredentials},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp, err := e.Server.Client().Post(e.URL(protocol.PathActivations), tt.ctype, strings.NewReader(tt.body))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var pe protocol.Error
				raw, _ := io.ReadAll(resp.Body)
				if err := json.Unmarshal(raw, &pe); err != nil {
					t.Fatalf("error body %q: %v", raw, err)
				}
				if resp.StatusCode != tt.status || pe.Code != tt.code || pe.Message == "" {
					t.Fatalf("got %d %+v, want %d %s", resp.StatusCode, pe, tt.status, tt.code)
				}
				if n := seatsUsed(t, e, lic.ID); n != 0 {
					t.Fatalf("a rejected request took a seat (%d used)", n)
				}
			})
		}
	})
}

func TestAccountAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		lic := e.Account(t, "owner@example.com", "correct horse battery", 3, time.Now().AddDate(1, 0, 0))
		var act protocol.ActivateResponse
		if st := e.Do(t, "POST", protocol.PathActivations, "", activation(lic.Key, "lost-laptop"), &act); st != http.StatusCreated {
			t.Fatalf("activate: %d", st)
		}

		var pe protocol.Error
		if st := e.Do(t, "POST", httpapi.PathSessions, "", accountapi.SessionRequest{Email: "owner@example.com", Password: "not the password"}, &pe); st != 401 || pe.Code != protocol.ErrInvalidCredentials {
			t.Fatalf("wrong password: %d %+v", st, pe)
		}
		if st := e.Do(t, "GET", httpapi.PathAccountLicenses, "", nil, &pe); st != 401 {
			t.Fatalf("licenses without a session: %d", st)
		}
		var sess accountapi.SessionResponse
		if st := e.Do(t, "POST", httpapi.PathSessions, "", accountapi.SessionRequest{Email: "owner@example.com", Password: "correct horse battery"}, &sess); st != http.StatusCreated || sess.Token == "" {
			t.Fatalf("sign in: %d %+v", st, sess)
		}
		var lp accountapi.LicensePage
		if st := e.Do(t, "GET", httpapi.PathAccountLicenses, sess.Token, nil, &lp); st != 200 || len(lp.Items) != 1 || lp.Total != 1 || lp.NextCursor != "" ||
			lp.Items[0].SeatsUsed != 1 || lp.Items[0].Seats != 3 || lp.Items[0].Key != lic.Key {
			t.Fatalf("licenses: %d %+v", st, lp)
		}
		var dp accountapi.DevicePage
		if st := e.Do(t, "GET", httpapi.PathAccountDevices, sess.Token, nil, &dp); st != 200 || len(dp.Items) != 1 || dp.Total != 1 ||
			dp.Items[0].ID != act.DeviceID || dp.Items[0].Device.Hostname != "lost-laptop" {
			t.Fatalf("devices: %d %+v", st, dp)
		}
		for _, q := range []string{"?limit=0x", "?limit=501", "?cursor=not-a-cursor"} {
			var pe protocol.Error
			if st := e.Do(t, "GET", httpapi.PathAccountDevices+q, sess.Token, nil, &pe); st != 400 || pe.Code != protocol.ErrInvalidRequest {
				t.Fatalf("devices%s: %d %+v, want 400 invalid_request", q, st, pe)
			}
		}

		// Another account cannot release this one's computer.
		e.Account(t, "other@example.com", "another long password", 1, time.Now().AddDate(1, 0, 0))
		var other accountapi.SessionResponse
		e.Do(t, "POST", httpapi.PathSessions, "", accountapi.SessionRequest{Email: "other@example.com", Password: "another long password"}, &other)
		if st := e.Do(t, "DELETE", httpapi.PathAccountDevices+"/"+act.DeviceID, other.Token, nil, &pe); st != 404 {
			t.Fatalf("release by a stranger: %d %+v", st, pe)
		}
		if n := seatsUsed(t, e, lic.ID); n != 1 {
			t.Fatalf("stranger freed the seat: %d used", n)
		}

		if st := e.Do(t, "DELETE", httpapi.PathAccountDevices+"/"+act.DeviceID, sess.Token, nil, nil); st != http.StatusNoContent {
			t.Fatalf("release: %d", st)
		}
		if n := seatsUsed(t, e, lic.ID); n != 0 {
			t.Fatalf("release did not free the seat: %d used", n)
		}
		checkin := protocol.CheckinRequest{Fingerprint: apitest.Fingerprint("lost-laptop")}
		if st := e.Do(t, "POST", protocol.PathCheckin, act.Credential, checkin, &pe); st != http.StatusGone || pe.Code != protocol.ErrDeviceRevoked {
			t.Fatalf("checkin of a released computer: %d %+v", st, pe)
		}

		if st := e.Do(t, "DELETE", httpapi.PathSessions, sess.Token, nil, nil); st != http.StatusNoContent {
			t.Fatalf("sign out: %d", st)
		}
		if st := e.Do(t, "GET", httpapi.PathAccountDevices, sess.Token, nil, &pe); st != 401 {
			t.Fatalf("ended session still works: %d", st)
		}
	})
}

func TestHealthKeysMetrics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		var h httpapi.HealthResponse
		if st := e.Do(t, "GET", protocol.PathHealth, "", nil, &h); st != 200 || h.Status != "ok" || h.Database != "ok" {
			t.Fatalf("health: %d %+v", st, h)
		}
		if ks := keySet(t, e); ks.Len() < 1 {
			t.Fatal("no keys published")
		}
		var pe protocol.Error
		if st := e.Do(t, "GET", "/v1/nothing-here", "", nil, &pe); st != 404 || pe.Code != protocol.ErrNotFound {
			t.Fatalf("unknown path: %d %+v", st, pe)
		}
		resp, err := e.Server.Client().Get(e.URL("/metrics"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`entitle_http_requests_total{method="GET",route="GET /v1/health",status="200"} 1`, "entitle_seat_denials_total 0"} {
			if !strings.Contains(string(body), want) {
				t.Fatalf("metrics lack %q:\n%s", want, body)
			}
		}
	})
}

// TestHealthReportsDatabaseDown closes the database under a running server.
func TestHealthReportsDatabaseDown(t *testing.T) {
	e := apitest.Start(t, store.SQLite)
	if err := e.DB.Close(); err != nil {
		t.Fatal(err)
	}
	var h httpapi.HealthResponse
	if st := e.Do(t, "GET", protocol.PathHealth, "", nil, &h); st != http.StatusServiceUnavailable || h.Database != "unreachable" {
		t.Fatalf("health with a closed database: %d %+v", st, h)
	}
}

// TestWrongMethod: a known path with another method is 405 with Allow (in the
// API's JSON error format); an unknown path stays 404.
func TestWrongMethod(t *testing.T) {
	e := apitest.Start(t, store.SQLite)
	for _, tc := range []struct {
		method, path string
		want         int
		allow        string
	}{
		{"POST", protocol.PathHealth, 405, "GET, HEAD"},
		{"DELETE", protocol.PathKeys, 405, "GET, HEAD"},
		{"GET", protocol.PathActivations, 405, "POST"},
		{"GET", protocol.PathDevice, 405, "DELETE"},
		{"PUT", httpapi.PathSessions, 405, "POST, DELETE"},
		{"POST", httpapi.PathAccountDevices + "/dev_x", 405, "DELETE"},
		{"GET", "/v1/nothing-here", 404, ""},
		{"POST", "/v1/nothing-here", 404, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, e.URL(tc.path), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := e.Server.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.want)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q", ct)
			}
			if got := resp.Header.Get("Allow"); got != tc.allow {
				t.Fatalf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
}
