package httpapi_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/internal/dnstest"
	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/servertest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

const (
	journalUA = "journal-route-test/1.0"
	password  = "correct horse battery"
)

// tagging is an HTTP transport that sends journalUA and remembers the
// X-Request-ID of the last answer.
type tagging struct {
	base   http.RoundTripper
	mu     sync.Mutex
	lastID string
}

func (tg *tagging) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("User-Agent", journalUA)
	resp, err := tg.base.RoundTrip(req)
	if err == nil {
		tg.mu.Lock()
		tg.lastID = resp.Header.Get("X-Request-ID")
		tg.mu.Unlock()
	}
	return resp, err
}

func (tg *tagging) last() string {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.lastID
}

// routeEnv is one server with clients that tag their requests.
type routeEnv struct {
	*apitest.Env
	dns *dnstest.Server // the organizations' resolver answers from it
	tag *tagging
	api *http.Client // JSON API
	n   int          // accounts made so far
}

func (re *routeEnv) browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: re.tag, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (re *routeEnv) call(t *testing.T, method, path, bearer string, body, out any) int {
	t.Helper()
	return servertest.CallURL(t, re.api, method, re.URL(path), bearer, body, out)
}

// person makes a fresh account with a license of 3 seats; it returns the
// email, the license key and the account id.
func (re *routeEnv) person(t *testing.T) (string, string, string) {
	t.Helper()
	re.n++
	email := fmt.Sprintf("person%d@example.com", re.n)
	lic := re.Account(t, email, password, 3, time.Now().AddDate(1, 0, 0))
	acct, err := re.App.Accounts.Login(context.Background(), email, password, "192.0.2.200")
	if err != nil {
		t.Fatal(err)
	}
	return email, lic.Key, acct.ID
}

// workspace makes a person with a session; with create, a workspace on
// their license too. It returns the session, the license id and the
// workspace id.
func (re *routeEnv) workspace(t *testing.T, create bool) (string, string, string) {
	t.Helper()
	email, _, acct := re.person(t)
	tok := re.session(t, email)
	lics, err := re.App.Licenses.ListLicenses(context.Background(), acct)
	if err != nil || len(lics) == 0 {
		t.Fatalf("licenses: %v", err)
	}
	if !create {
		return tok, lics[0].ID, ""
	}
	var ws accountapi.WorkspaceJSON
	if st := re.call(t, "POST", accountapi.PathWorkspaces, tok, accountapi.WorkspaceRequest{Name: "Espace", LicenseID: lics[0].ID}, &ws); st != http.StatusCreated {
		t.Fatalf("create workspace: %d", st)
	}
	return tok, lics[0].ID, ws.ID
}

func (re *routeEnv) session(t *testing.T, email string) string {
	t.Helper()
	var s accountapi.SessionResponse
	if st := re.call(t, "POST", accountapi.PathSessions, "", accountapi.SessionRequest{Email: email, Password: password}, &s); st != http.StatusCreated {
		t.Fatalf("sign in: %d", st)
	}
	return s.Token
}

// activate activates a new computer with key; it returns the answer and
// the computer's fingerprint.
func (re *routeEnv) activate(t *testing.T, key string) (protocol.ActivateResponse, string) {
	t.Helper()
	re.n++
	name := fmt.Sprintf("pc-%d", re.n)
	var a protocol.ActivateResponse
	if st := re.call(t, "POST", protocol.PathActivations, "", activation(key, name), &a); st != http.StatusCreated {
		t.Fatalf("activate: %d", st)
	}
	return a, apitest.Fingerprint(name)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// form GETs u with c and returns the page's CSRF token.
func form(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := csrfInput.FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("GET %s (%d): no CSRF token", u, resp.StatusCode)
	}
	return html.UnescapeString(m[1])
}

func post(t *testing.T, c *http.Client, u string, v url.Values) int {
	t.Helper()
	resp, err := c.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// signedIn returns a browser signed in as email and the CSRF token of its
// account page.
func (re *routeEnv) signedIn(t *testing.T, email string) (*http.Client, string) {
	t.Helper()
	c := re.browser(t)
	tok := form(t, c, re.URL("/login"))
	if st := post(t, c, re.URL("/login"), url.Values{"csrf": {tok}, "email": {email}, "password": {password}}); st != http.StatusSeeOther {
		t.Fatalf("web sign in: %d", st)
	}
	return c, form(t, c, re.URL("/account"))
}

// devicePage starts a browser sign-in for a computer and returns a browser
// signed in from the device page, the CSRF token of its confirm page and the
// user code.
func (re *routeEnv) devicePage(t *testing.T, email string) (*http.Client, string, string) {
	t.Helper()
	re.n++
	auth, err := re.App.DeviceAuth.StartDeviceAuth(context.Background(), protocol.DeviceAuthorizeRequest{
		Fingerprint: apitest.Fingerprint(fmt.Sprintf("desk-%d", re.n)), Product: "entitle", Device: protocol.DeviceFacts{Hostname: "desk", OS: "linux"},
	}, re.URL("/device"), "192.0.2.9")
	if err != nil {
		t.Fatal(err)
	}
	c := re.browser(t)
	tok := form(t, c, re.URL("/device?user_code="+url.QueryEscape(auth.UserCode)))
	resp, err := c.PostForm(re.URL("/login"), url.Values{"csrf": {tok}, "flow": {"device"}, "user_code": {auth.UserCode}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return c, form(t, c, re.URL(resp.Header.Get("Location"))), auth.UserCode
}

// journalCases holds, for every state-changing route, how to make one
// successful call of it: setup prepares what the call needs (its own journal
// rows do not count) and returns the call, which returns the status.
var journalCases = map[string]func(t *testing.T, re *routeEnv) func() int{
	"POST /v1/activations": func(t *testing.T, re *routeEnv) func() int {
		_, key, _ := re.person(t)
		return func() int { return re.call(t, "POST", protocol.PathActivations, "", activation(key, "route-pc"), nil) }
	},
	"POST /v1/device/authorize": func(t *testing.T, re *routeEnv) func() int {
		return func() int {
			return re.call(t, "POST", protocol.PathDeviceAuthorize, "", protocol.DeviceAuthorizeRequest{
				Fingerprint: apitest.Fingerprint("authorize"), Product: "entitle", Device: protocol.DeviceFacts{Hostname: "h", OS: "linux"},
			}.Form(), nil)
		}
	},
	"POST /v1/device/token": func(t *testing.T, re *routeEnv) func() int {
		_, _, acct := re.person(t)
		ctx := context.Background()
		auth, err := re.App.DeviceAuth.StartDeviceAuth(ctx, protocol.DeviceAuthorizeRequest{
			Fingerprint: apitest.Fingerprint("token"), Product: "entitle", Device: protocol.DeviceFacts{Hostname: "h", OS: "linux"},
		}, re.URL("/device"), "192.0.2.9")
		if err != nil {
			t.Fatal(err)
		}
		if err := re.App.DeviceAuth.ApproveDeviceAuth(ctx, auth.UserCode, acct, "192.0.2.200"); err != nil {
			t.Fatal(err)
		}
		return func() int {
			return re.call(t, "POST", protocol.PathDeviceToken, "", protocol.DeviceTokenRequest{DeviceCode: auth.DeviceCode, ClientID: "entitle"}.Form(), nil)
		}
	},
	"DELETE /v1/device": func(t *testing.T, re *routeEnv) func() int {
		_, key, _ := re.person(t)
		a, _ := re.activate(t, key)
		return func() int { return re.call(t, "DELETE", protocol.PathDevice, a.Credential, nil, nil) }
	},
	"POST /v1/sessions": func(t *testing.T, re *routeEnv) func() int {
		email, _, _ := re.person(t)
		return func() int {
			return re.call(t, "POST", accountapi.PathSessions, "", accountapi.SessionRequest{Email: email, Password: password}, nil)
		}
	},
	"DELETE /v1/sessions": func(t *testing.T, re *routeEnv) func() int {
		email, _, _ := re.person(t)
		tok := re.session(t, email)
		return func() int { return re.call(t, "DELETE", accountapi.PathSessions, tok, nil, nil) }
	},
	"DELETE /v1/account/devices/{id}": func(t *testing.T, re *routeEnv) func() int {
		email, key, _ := re.person(t)
		a, _ := re.activate(t, key)
		tok := re.session(t, email)
		return func() int { return re.call(t, "DELETE", accountapi.PathAccountDevices+"/"+a.DeviceID, tok, nil, nil) }
	},
	"POST /v1/account/devices/{id}/commands": func(t *testing.T, re *routeEnv) func() int {
		email, key, _ := re.person(t)
		a, _ := re.activate(t, key)
		tok := re.session(t, email)
		return func() int {
			return re.call(t, "POST", accountapi.PathAccountDevices+"/"+a.DeviceID+"/commands", tok, accountapi.CommandRequest{Type: protocol.CmdRefreshLease}, nil)
		}
	},
	"POST /v1/account/workspaces": func(t *testing.T, re *routeEnv) func() int {
		tok, lic, _ := re.workspace(t, false)
		return func() int {
			return re.call(t, "POST", accountapi.PathWorkspaces, tok, accountapi.WorkspaceRequest{Name: "Route", LicenseID: lic}, nil)
		}
	},
	"PATCH /v1/account/workspaces/{id}": func(t *testing.T, re *routeEnv) func() int {
		tok, _, ws := re.workspace(t, true)
		return func() int {
			return re.call(t, "PATCH", accountapi.PathWorkspaces+"/"+ws, tok, accountapi.WorkspaceRequest{ManagementMode: accountapi.ModeRemote}, nil)
		}
	},
	"DELETE /v1/account/workspaces/{id}": func(t *testing.T, re *routeEnv) func() int {
		tok, _, ws := re.workspace(t, true)
		return func() int { return re.call(t, "DELETE", accountapi.PathWorkspaces+"/"+ws, tok, nil, nil) }
	},
	"POST /v1/account/workspaces/{id}/enrollment-tokens": func(t *testing.T, re *routeEnv) func() int {
		tok, _, ws := re.workspace(t, true)
		return func() int {
			return re.call(t, "POST", accountapi.PathWorkspaces+"/"+ws+"/enrollment-tokens", tok, accountapi.EnrollmentTokenRequest{MaxUses: 5}, nil)
		}
	},
	"DELETE /v1/account/workspaces/{id}/enrollment-tokens/{token}": func(t *testing.T, re *routeEnv) func() int {
		tok, _, ws := re.workspace(t, true)
		var et accountapi.EnrollmentTokenJSON
		if st := re.call(t, "POST", accountapi.PathWorkspaces+"/"+ws+"/enrollment-tokens", tok, accountapi.EnrollmentTokenRequest{}, &et); st != http.StatusCreated {
			t.Fatalf("create token: %d", st)
		}
		return func() int {
			return re.call(t, "DELETE", accountapi.PathWorkspaces+"/"+ws+"/enrollment-tokens/"+et.ID, tok, nil, nil)
		}
	},
	"POST /login": func(t *testing.T, re *routeEnv) func() int {
		email, _, _ := re.person(t)
		c := re.browser(t)
		tok := form(t, c, re.URL("/login"))
		return func() int {
			return post(t, c, re.URL("/login"), url.Values{"csrf": {tok}, "email": {email}, "password": {password}})
		}
	},
	"POST /logout": func(t *testing.T, re *routeEnv) func() int {
		email, _, _ := re.person(t)
		c, tok := re.signedIn(t, email)
		return func() int { return post(t, c, re.URL("/logout"), url.Values{"csrf": {tok}}) }
	},
	"POST /account/devices/{id}/release": func(t *testing.T, re *routeEnv) func() int {
		email, key, _ := re.person(t)
		a, _ := re.activate(t, key)
		c, tok := re.signedIn(t, email)
		return func() int {
			return post(t, c, re.URL("/account/devices/"+a.DeviceID+"/release"), url.Values{"csrf": {tok}})
		}
	},
	"POST /language": func(t *testing.T, re *routeEnv) func() int {
		email, _, _ := re.person(t)
		c, tok := re.signedIn(t, email)
		return func() int {
			return post(t, c, re.URL("/language"), url.Values{"csrf": {tok}, "lang": {"fr"}, "next": {"/account"}})
		}
	},
	"POST /account/password": func(t *testing.T, re *routeEnv) func() int {
		email, _, _ := re.person(t)
		c, tok := re.signedIn(t, email)
		return func() int {
			return post(t, c, re.URL("/account/password"), url.Values{"csrf": {tok}, "current_password": {password},
				"new_password": {"a new horse battery"}, "new_password_again": {"a new horse battery"}})
		}
	},
	"POST /device/approve": func(t *testing.T, re *routeEnv) func() int {
		email, _, _ := re.person(t)
		c, tok, code := re.devicePage(t, email)
		return func() int {
			return post(t, c, re.URL("/device/approve"), url.Values{"csrf": {tok}, "user_code": {code}})
		}
	},
	"POST /device/deny": func(t *testing.T, re *routeEnv) func() int {
		email, _, _ := re.person(t)
		c, tok, code := re.devicePage(t, email)
		return func() int { return post(t, c, re.URL("/device/deny"), url.Values{"csrf": {tok}, "user_code": {code}}) }
	},
}

// notJournaled are the state-changing routes whose plain call writes no
// journal row, each with the reason. The check-in is the hot path: it
// refreshes the device's last-seen time and lease, which are not changes a
// person makes (the journal would otherwise grow by every device every few
// hours); only the command results it may carry are journaled.
var notJournaled = map[string]string{
	"POST /v1/checkin": "hot path: a check-in without command results is not journaled",
}

// TestEveryStateChangingRouteJournals takes the route list from
// Server.Routes(), so a new route without a case here fails: every route
// that is not a GET, called successfully, writes exactly one journal row,
// with the caller's IP, user agent and the request's id.
func TestEveryStateChangingRouteJournals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		dns := dnstest.Start(t)
		e := apitest.StartWith(t, d, func(c *app.Config) { c.Resolver = dns.Resolver() })
		tag := &tagging{base: e.Server.Client().Transport}
		re := &routeEnv{Env: e, dns: dns, tag: tag, api: &http.Client{Transport: tag}}
		ctx := context.Background()
		seen := map[string]bool{}
		for _, route := range e.API.Routes() {
			method, _, _ := strings.Cut(route, " ")
			if method == http.MethodGet || method == http.MethodHead {
				continue
			}
			seen[route] = true
			t.Run(route, func(t *testing.T) {
				if reason, ok := notJournaled[route]; ok {
					_, key, _ := re.person(t)
					a, fp := re.activate(t, key)
					before := rowCount(t, e)
					if st := re.call(t, "POST", protocol.PathCheckin, a.Credential, protocol.CheckinRequest{Fingerprint: fp}, nil); st != http.StatusOK {
						t.Fatalf("check-in: %d", st)
					}
					if n := rowCount(t, e) - before; n != 0 {
						t.Errorf("%s wrote %d journal rows; want none (%s)", route, n, reason)
					}
					return
				}
				setup, ok := journalCases[route]
				if !ok {
					t.Fatalf("%s changes state but has no case in journalCases: add one (or a reason in notJournaled)", route)
				}
				callIt := setup(t, re)
				before := rowCount(t, e)
				st := callIt()
				if st < 200 || st >= 400 {
					t.Fatalf("call: status %d", st)
				}
				p, err := journal.List(ctx, e.DB, journal.Filter{AnyOrganization: true, Page: paging.Request{Limit: 5}})
				if err != nil {
					t.Fatal(err)
				}
				if n := rowCount(t, e) - before; n != 1 {
					t.Fatalf("%d journal rows written; want exactly 1 (newest: %+v)", n, p.Items)
				}
				row := p.Items[0]
				if row.IP != "127.0.0.1" || row.UserAgent != journalUA || row.RequestID == "" || row.RequestID != tag.last() {
					t.Errorf("row %s: ip %q, user agent %q, request id %q (answer's %q)", row.Action, row.IP, row.UserAgent, row.RequestID, tag.last())
				}
			})
		}
		for route := range journalCases {
			if !seen[route] {
				t.Errorf("journalCases has %s, which the server does not serve", route)
			}
		}
		reps, err := journal.Verify(ctx, e.DB, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reps {
			if !r.OK() {
				t.Errorf("chain %q broken: %+v", r.Organization, r.Break)
			}
		}
	})
}

func rowCount(t *testing.T, e *apitest.Env) int {
	t.Helper()
	var n int
	if err := e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
