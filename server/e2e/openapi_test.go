package e2e

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/pkg/testenv/openapitest"
	"github.com/entitle/entitle/server/servertest"
)

// TestResponsesMatchOpenAPI drives the real entitle-server binary through its
// main routes and validates every exchange against docs/openapi/server.yaml
// with libopenapi-validator: status documented for the operation, content
// type, body schema; the successful requests are validated too (body and
// security: the device credential and the session token as bearer tokens).
func TestResponsesMatchOpenAPI(t *testing.T) {
	v := openapitest.Load(t, filepath.Join(testenv.RepoRoot(t), "docs", "openapi", "server.yaml"))
	bin := testenv.BuildBinary(t, "./server/cmd/entitle-server")
	dsn := servertest.Databases()[0].DSN(t)
	cli(t, bin, dsn, "", "migrate")
	cli(t, bin, dsn, ownerPass+"\n", "account", "create", "--email", ownerEmail, "--password-stdin")
	var lic accountapi.LicenseJSON
	cliJSON(t, bin, dsn, "", &lic, "license", "create", "--owner", ownerEmail, "--plan", "pro", "--seats", "1")
	srv := startServer(t, bin, "--db", dsn)
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	type call struct {
		method, path, bearer, contentType string
		body                              any
	}
	do := func(t *testing.T, cl call, want int, mode openapitest.Mode, out any) {
		t.Helper()
		var raw []byte
		switch b := cl.body.(type) {
		case nil:
		case string:
			raw = []byte(b)
		default:
			var err error
			if raw, err = json.Marshal(b); err != nil {
				t.Fatal(err)
			}
		}
		var req *http.Request
		var err error
		if raw != nil {
			req, err = http.NewRequest(cl.method, srv.Base+cl.path, bytes.NewReader(raw))
		} else {
			req, err = http.NewRequest(cl.method, srv.Base+cl.path, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		if raw != nil {
			ct := cl.contentType
			if ct == "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
		}
		if cl.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+cl.bearer)
		}
		_, body := openapitest.Do(t, v, c, req, want, mode)
		if out != nil {
			if err := json.Unmarshal(body, out); err != nil {
				t.Fatalf("%s %s: %v\n%s", cl.method, cl.path, err, body)
			}
		}
	}
	const also, only = openapitest.AlsoRequest, openapitest.ResponseOnly
	dev := func(name string) protocol.DeviceFacts {
		return protocol.DeviceFacts{Hostname: name, OS: "linux", Arch: "amd64", AgentVersion: "openapi-test"}
	}
	byKey := protocol.ActivateRequest{Method: protocol.MethodLicenseKey, LicenseKey: lic.Key, Fingerprint: fingerprint("openapi-a"), Product: "entitle-signing", Device: dev("a")}

	do(t, call{method: "GET", path: protocol.PathHealth}, 200, also, nil)
	do(t, call{method: "GET", path: protocol.PathKeys}, 200, also, nil)
	do(t, call{method: "GET", path: "/metrics"}, 200, also, nil)

	var act protocol.ActivateResponse
	do(t, call{method: "POST", path: protocol.PathActivations, body: byKey}, 201, also, &act)
	do(t, call{method: "POST", path: protocol.PathActivations, body: byKey}, 200, also, &act)
	other := byKey
	other.Fingerprint, other.Device = fingerprint("openapi-b"), dev("b")
	do(t, call{method: "POST", path: protocol.PathActivations, body: other}, 409, only, nil)
	unknown := byKey
	unknown.LicenseKey = strings.Repeat("A", 25)
	do(t, call{method: "POST", path: protocol.PathActivations, body: unknown}, 400, only, nil)
	do(t, call{method: "POST", path: protocol.PathActivations, body: `{"method":`}, 400, only, nil)
	do(t, call{method: "POST", path: protocol.PathActivations, body: "method=license_key", contentType: "application/x-www-form-urlencoded"}, 400, only, nil)
	do(t, call{method: "POST", path: protocol.PathActivations, body: `{"` + strings.Repeat("x", protocol.MaxBodyBytes) + `":1}`}, 413, only, nil)

	checkin := protocol.CheckinRequest{Fingerprint: byKey.Fingerprint, Device: byKey.Device}
	do(t, call{method: "POST", path: protocol.PathCheckin, bearer: act.Credential, body: checkin}, 200, also, nil)
	do(t, call{method: "POST", path: protocol.PathCheckin, body: checkin}, 401, only, nil)
	do(t, call{method: "POST", path: protocol.PathCheckin, bearer: strings.Repeat("x", 43), body: checkin}, 401, only, nil)

	var auth protocol.DeviceAuthorizeResponse
	do(t, call{method: "POST", path: protocol.PathDeviceAuthorize, body: protocol.DeviceAuthorizeRequest{Fingerprint: fingerprint("openapi-c"), Product: "entitle-signing", Device: dev("c")}.Form().Encode(), contentType: "application/x-www-form-urlencoded"}, 200, also, &auth)
	do(t, call{method: "POST", path: protocol.PathDeviceToken, body: protocol.DeviceTokenRequest{DeviceCode: auth.DeviceCode, ClientID: "entitle-signing"}.Form().Encode(), contentType: "application/x-www-form-urlencoded"}, 400, also, nil)

	var sess accountapi.SessionResponse
	do(t, call{method: "POST", path: accountapi.PathSessions, body: map[string]string{"email": ownerEmail, "password": ownerPass}}, 201, also, &sess)
	do(t, call{method: "POST", path: accountapi.PathSessions, body: map[string]string{"email": ownerEmail, "password": "not the password"}}, 401, only, nil)
	do(t, call{method: "GET", path: accountapi.PathAccountLicenses, bearer: sess.Token}, 200, also, nil)
	do(t, call{method: "GET", path: accountapi.PathAccountDevices, bearer: sess.Token}, 200, also, nil)
	do(t, call{method: "GET", path: accountapi.PathAccountDevices}, 401, only, nil)
	do(t, call{method: "DELETE", path: accountapi.PathAccountDevices + "/dev_nope", bearer: sess.Token}, 404, only, nil)

	// Deactivating is idempotent: the second DELETE is 204 too; the
	// credential then checks in to 410.
	do(t, call{method: "DELETE", path: protocol.PathDevice, bearer: act.Credential}, 204, also, nil)
	do(t, call{method: "DELETE", path: protocol.PathDevice, bearer: act.Credential}, 204, also, nil)
	do(t, call{method: "POST", path: protocol.PathCheckin, bearer: act.Credential, body: checkin}, 410, only, nil)

	do(t, call{method: "DELETE", path: accountapi.PathSessions, bearer: sess.Token}, 204, also, nil)

	// Pages, signed out.
	do(t, call{method: "GET", path: "/login"}, 200, also, nil)
	do(t, call{method: "GET", path: "/account"}, 303, also, nil)
	do(t, call{method: "GET", path: "/"}, 303, also, nil)
	do(t, call{method: "GET", path: protocol.PathVerify + "?user_code=ABCDEFGH"}, 200, also, nil)
	do(t, call{method: "POST", path: "/logout", body: "csrf=x", contentType: "application/x-www-form-urlencoded"}, 303, only, nil)

	// Pages, signed in (a cookie jar, as a browser): the device pages'
	// statuses besides 200.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Jar = jar
	csrfField := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	csrf := func(body []byte) string {
		t.Helper()
		m := csrfField.FindSubmatch(body)
		if m == nil {
			t.Fatalf("no csrf field in\n%s", body)
		}
		return html.UnescapeString(string(m[1]))
	}
	page := func(method, path string, form url.Values, want int) []byte {
		t.Helper()
		var req *http.Request
		if form != nil {
			req, err = http.NewRequest(method, srv.Base+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req, err = http.NewRequest(method, srv.Base+path, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, body := openapitest.Do(t, v, c, req, want, only)
		return body
	}
	login := page("GET", "/login", nil, 200)
	page("POST", "/login", url.Values{"csrf": {csrf(login)}, "email": {ownerEmail}, "password": {ownerPass}}, 303)
	dp := page("GET", protocol.PathVerify, nil, 200)
	tok := csrf(dp)
	page("POST", protocol.PathVerify+"/approve", url.Values{"csrf": {tok}}, 400)
	page("POST", protocol.PathVerify+"/deny", url.Values{"csrf": {tok}}, 400)
	page("POST", protocol.PathVerify+"/approve", url.Values{"csrf": {"wrong"}, "user_code": {"BCDFGHJK"}}, 403)
	page("POST", protocol.PathVerify+"/deny", url.Values{"csrf": {tok}, "user_code": {"BCDFGHJK"}}, 404)
	page("POST", protocol.PathVerify+"/approve", url.Values{"csrf": {tok}, "user_code": {"BCDFGHJK"}}, 404)
	// Wrong codes are limited per address: 404 until the limit, then 429.
	limited := false
	for i := 0; i < 200 && !limited; i++ {
		req, _ := http.NewRequest("GET", srv.Base+protocol.PathVerify+"?user_code=BCDFGHJK", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case 404:
		case 429:
			limited = true
		default:
			t.Fatalf("wrong code: status %d", resp.StatusCode)
		}
	}
	if !limited {
		t.Fatal("200 wrong codes were never limited")
	}
	page("GET", protocol.PathVerify+"?user_code=BCDFGHJK", nil, 429)
	page("POST", protocol.PathVerify+"/approve", url.Values{"csrf": {tok}, "user_code": {"BCDFGHJK"}}, 429)
}
