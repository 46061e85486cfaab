package web_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
	"github.com/entitle/entitle/server/web"
)

const (
	email    = "owner@example.com"
	password = "correct horse battery"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// page fetches or posts and returns status, location and body.
func page(t *testing.T, c *http.Client, method, u string, form url.Values) (int, string, string) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == "POST" {
		resp, err = c.PostForm(u, form)
	} else {
		resp, err = c.Get(u)
	}
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func csrf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

func signIn(t *testing.T, e *apitest.Env, c *http.Client) {
	t.Helper()
	_, _, body := page(t, c, "GET", e.URL("/login"), nil)
	st, loc, _ := page(t, c, "POST", e.URL("/login"), url.Values{"csrf": {csrf(t, body)}, "email": {email}, "password": {password}})
	if st != http.StatusSeeOther || loc != "/account" {
		t.Fatalf("sign in: %d -> %q", st, loc)
	}
}

func TestLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		e.Account(t, email, password, 1, time.Now().AddDate(1, 0, 0))
		tests := []struct {
			name       string
			token      func(real string) string
			password   string
			wantStatus int
			wantText   string
		}{
			{"missing CSRF token", func(string) string { return "" }, password, 403, "Request refused"},
			{"wrong CSRF token", func(r string) string { return strings.ToUpper(r[:10]) + r[10:] + "x" }, password, 403, "Request refused"},
			{"wrong password", func(r string) string { return r }, "wrong password", 401, "The email or password is not correct."},
			{"success", func(r string) string { return r }, password, 303, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := e.Browser(t)
				st, _, body := page(t, c, "GET", e.URL("/login"), nil)
				if st != 200 {
					t.Fatalf("GET /login: %d", st)
				}
				st, loc, body := page(t, c, "POST", e.URL("/login"), url.Values{"csrf": {tt.token(csrf(t, body))}, "email": {email}, "password": {tt.password}})
				if st != tt.wantStatus || !strings.Contains(body, tt.wantText) {
					t.Fatalf("POST /login: %d %q\n%s", st, loc, body)
				}
				st, loc, _ = page(t, c, "GET", e.URL("/account"), nil)
				signedIn := st == 200
				if signedIn != (tt.wantStatus == 303) {
					t.Fatalf("after %s: GET /account = %d -> %q", tt.name, st, loc)
				}
			})
		}
	})
}

func TestCookiesAndHeaders(t *testing.T) {
	e := apitest.Start(t, store.SQLite)
	e.Account(t, email, password, 1, time.Now().AddDate(1, 0, 0))
	c := e.Browser(t)
	resp, err := c.Get(e.URL("/login"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") ||
		!strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Fatalf("CSP %q", csp)
	}
	_, _, body := page(t, c, "GET", e.URL("/login"), nil)
	resp, err = c.PostForm(e.URL("/login"), url.Values{"csrf": {csrf(t, body)}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "entitle_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.Secure {
		t.Fatalf("session cookie %+v", session)
	}

	// With an https public URL the cookies are Secure and __Host- prefixed.
	pages, err := web.New(web.Domains{Accounts: e.App.Accounts, Licenses: e.App.Licenses, Devices: e.App.Devices, DeviceAuth: e.App.DeviceAuth}, web.Config{PublicURL: "https://licenses.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	pages.Register(mux)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/login", nil))
	ck := w.Result().Cookies()
	if len(ck) != 1 || ck[0].Name != "__Host-entitle_csrf" || !ck[0].Secure || !ck[0].HttpOnly {
		t.Fatalf("https cookies %+v", ck)
	}
}

func TestAccountPageRelease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		lic := e.Account(t, email, password, 2, time.Now().AddDate(1, 0, 0))
		act, err := e.App.Devices.Activate(context.Background(), protocol.ActivateRequest{
			Method: protocol.MethodLicenseKey, LicenseKey: lic.Key, Fingerprint: apitest.Fingerprint("old-pc"), Product: "entitle",
			Device: protocol.DeviceFacts{Hostname: "old-pc<script>", OS: "windows", Arch: "amd64"},
		}, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		c := e.Browser(t)
		signIn(t, e, c)
		st, _, body := page(t, c, "GET", e.URL("/account"), nil)
		for _, want := range []string{"1 of 2", lic.Key} {
			if st != 200 || !strings.Contains(body, want) {
				t.Fatalf("licenses page (%d) lacks %q:\n%s", st, want, body)
			}
		}
		st, _, body = page(t, c, "GET", e.URL("/account/computers"), nil)
		for _, want := range []string{"old-pc&lt;script&gt;", "windows", "Release this computer"} {
			if st != 200 || !strings.Contains(body, want) {
				t.Fatalf("computers page (%d) lacks %q:\n%s", st, want, body)
			}
		}
		// The link leads to a confirmation that says what happens.
		st, _, confirm := page(t, c, "GET", e.URL("/account/devices/"+act.DeviceID+"/release"), nil)
		if st != 200 || !strings.Contains(confirm, "within a second if online, at its next check-in otherwise") {
			t.Fatalf("release confirmation (%d):\n%s", st, confirm)
		}
		if st, _, _ := page(t, c, "GET", e.URL("/account/devices/dev_not_mine/release"), nil); st != http.StatusNotFound {
			t.Fatalf("confirmation for a computer that is not the account's: %d", st)
		}
		token := csrf(t, body)
		release := e.URL("/account/devices/" + act.DeviceID + "/release")

		for name, form := range map[string]url.Values{"no token": {}, "wrong token": {"csrf": {token + "A"}}} {
			if st, _, _ := page(t, c, "POST", release, form); st != http.StatusForbidden {
				t.Fatalf("release with %s: %d", name, st)
			}
		}
		// A CSRF token from another browser's session is no good either.
		other := e.Browser(t)
		signIn(t, e, other)
		_, _, otherBody := page(t, other, "GET", e.URL("/account"), nil)
		if st, _, _ := page(t, c, "POST", release, url.Values{"csrf": {csrf(t, otherBody)}}); st != http.StatusForbidden {
			t.Fatalf("release with another session's token: %d", st)
		}
		ls, _ := e.App.Licenses.ListLicenses(context.Background(), "")
		if ls[0].SeatsUsed != 1 {
			t.Fatalf("a refused release changed seats: %d used", ls[0].SeatsUsed)
		}

		if st, loc, _ := page(t, c, "POST", release, url.Values{"csrf": {token}}); st != http.StatusSeeOther || loc != "/account/computers?released=1" {
			t.Fatalf("release: %d -> %q", st, loc)
		}
		_, _, body = page(t, c, "GET", e.URL("/account/computers?released=1"), nil)
		_, _, lics := page(t, c, "GET", e.URL("/account"), nil)
		if !strings.Contains(lics, "0 of 2") || !strings.Contains(body, "seat is free") {
			t.Fatalf("after release:\n%s", body)
		}

		// Sign out needs the token too, and then the session is gone.
		if st, _, _ := page(t, c, "POST", e.URL("/logout"), url.Values{}); st != http.StatusForbidden {
			t.Fatalf("logout without token: %d", st)
		}
		if st, loc, _ := page(t, c, "POST", e.URL("/logout"), url.Values{"csrf": {token}}); st != http.StatusSeeOther || loc != "/login" {
			t.Fatalf("logout: %d %q", st, loc)
		}
		if st, loc, _ := page(t, c, "GET", e.URL("/account"), nil); st != http.StatusSeeOther || loc != "/login" {
			t.Fatalf("account after logout: %d %q", st, loc)
		}
	})
}

func TestDeviceApproval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		e.Account(t, email, password, 1, time.Now().AddDate(1, 0, 0))
		for _, approve := range []bool{false, true} {
			name := map[bool]string{true: "approve", false: "deny"}[approve]
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				auth, err := e.App.DeviceAuth.StartDeviceAuth(ctx, protocol.DeviceAuthorizeRequest{
					Fingerprint: apitest.Fingerprint("desk-" + name), Product: "entitle",
					Device: protocol.DeviceFacts{Hostname: "desk-" + name, OS: "darwin", Arch: "arm64"},
				}, e.URL("/device"), "192.0.2.9")
				if err != nil {
					t.Fatal(err)
				}
				c := e.Browser(t)
				st, _, body := page(t, c, "GET", e.URL("/device?user_code="+url.QueryEscape(auth.UserCode)), nil)
				if st != 200 || !strings.Contains(body, `value="`+auth.UserCode+`"`) {
					t.Fatalf("device page (%d) does not pre-fill the code:\n%s", st, body)
				}
				st, loc, _ := page(t, c, "POST", e.URL("/login"), url.Values{
					"csrf": {csrf(t, body)}, "flow": {"device"}, "user_code": {auth.UserCode}, "email": {email}, "password": {password},
				})
				if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/device?user_code=") {
					t.Fatalf("sign in from the device page: %d -> %q", st, loc)
				}
				st, _, body = page(t, c, "GET", e.URL(loc), nil)
				if st != 200 || !strings.Contains(body, "desk-"+name) || !strings.Contains(body, "darwin") {
					t.Fatalf("confirm page (%d) does not show the computer:\n%s", st, body)
				}
				token := csrf(t, body)
				action := e.URL("/device/" + name)
				if st, _, _ := page(t, c, "POST", action, url.Values{"user_code": {auth.UserCode}}); st != http.StatusForbidden {
					t.Fatalf("%s without CSRF token: %d", name, st)
				}
				if info, err := e.App.DeviceAuth.DeviceAuthInfo(ctx, auth.UserCode, "192.0.2.1"); err != nil || info.Status != "pending" {
					t.Fatalf("after a refused %s the request is no longer pending: %+v %v", name, info, err)
				}
				st, _, body = page(t, c, "POST", action, url.Values{"csrf": {token}, "user_code": {auth.UserCode}})
				if st != 200 {
					t.Fatalf("%s: %d\n%s", name, st, body)
				}
				res, err := e.App.DeviceAuth.PollDeviceAuth(ctx, auth.DeviceCode)
				if approve && (err != nil || res.Lease == "") {
					t.Fatalf("poll after approval: %v", err)
				}
				if !approve && fault.CodeOf(err) != protocol.ErrAccessDenied {
					t.Fatalf("poll after denial: %v", err)
				}
			})
		}
	})
}

// TestDeviceCodeGuessing: entering codes that match no computer is limited
// per client address (10 at once by default); past the limit the code form,
// and approving, answer 429 with a page saying to wait, even for a right code.
func TestDeviceCodeGuessing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		e.Account(t, email, password, 1, time.Now().AddDate(1, 0, 0))
		auth, err := e.App.DeviceAuth.StartDeviceAuth(context.Background(), protocol.DeviceAuthorizeRequest{
			Fingerprint: apitest.Fingerprint("desk"), Product: "entitle", Device: protocol.DeviceFacts{Hostname: "desk"},
		}, e.URL("/device"), "192.0.2.9")
		if err != nil {
			t.Fatal(err)
		}
		c := e.Browser(t)
		signIn(t, e, c)
		guess := func(i int) string { return "BCDF-" + string("BCDFGHJKLMNPQRSTVWXZ"[i%20]) + "GHJ" }
		for i := range 10 {
			st, _, body := page(t, c, "GET", e.URL("/device?user_code="+guess(i)), nil)
			if st != http.StatusNotFound || !strings.Contains(body, "That code is not valid or has expired.") {
				t.Fatalf("guess %d: %d\n%s", i, st, body)
			}
		}
		const wait = "Too many codes that do not match a computer were entered from your network. Wait a few minutes"
		resp, err := c.Get(e.URL("/device?user_code=" + url.QueryEscape(auth.UserCode)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), wait) ||
			strings.Contains(string(b), "desk") {
			t.Fatalf("right code after 10 wrong ones: %d (Retry-After %q)\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
		st, _, body := page(t, c, "GET", e.URL("/account"), nil)
		if st != http.StatusOK {
			t.Fatalf("account page: %d", st)
		}
		st, _, body = page(t, c, "POST", e.URL("/device/approve"), url.Values{"csrf": {csrf(t, body)}, "user_code": {auth.UserCode}})
		if st != http.StatusTooManyRequests || !strings.Contains(body, wait) {
			t.Fatalf("approve after 10 wrong codes: %d\n%s", st, body)
		}
		if info, err := e.App.DeviceAuth.DeviceAuthInfo(context.Background(), auth.UserCode, "192.0.2.1"); err != nil || info.Status != "pending" {
			t.Fatalf("the refused approval changed the request: %+v %v", info, err)
		}
	})
}
