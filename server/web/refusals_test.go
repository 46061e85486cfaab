package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

var operator = authz.Principal{Operator: true}

// console is a server with one organization: its owner, a plain member, and
// the owner of another organization, each signed in in their own browser.
type console struct {
	e                  *apitest.Env
	org, memberID      string
	owner, member, out *http.Client
	ownerTok           string // CSRF token of the owner's pages
	memberTok, outTok  string
}

func (cs *console) person(t *testing.T, addr string) (*http.Client, string, string) {
	t.Helper()
	cs.e.Account(t, addr, password, 2, time.Now().AddDate(1, 0, 0))
	c := cs.e.Browser(t)
	_, _, body := page(t, c, "GET", cs.e.URL("/login"), nil)
	if st, _, _ := page(t, c, "POST", cs.e.URL("/login"), url.Values{"csrf": {csrf(t, body)}, "email": {addr}, "password": {password}}); st != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d", addr, st)
	}
	_, _, body = page(t, c, "GET", cs.e.URL("/account"), nil)
	acct, err := cs.e.App.Organizations.AccountIDByEmail(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return c, csrf(t, body), acct
}

func newConsole(t *testing.T, d store.Dialect) *console {
	t.Helper()
	cs := &console{e: apitest.Start(t, d)}
	ctx := context.Background()
	var ownerID, outID string
	cs.owner, cs.ownerTok, ownerID = cs.person(t, "owner@alpha.example")
	cs.member, cs.memberTok, cs.memberID = cs.person(t, "member@alpha.example")
	cs.out, cs.outTok, outID = cs.person(t, "owner@bravo.example")
	o, err := cs.e.App.Organizations.Create(ctx, "operator", "Alpha", ownerID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.e.App.Organizations.Create(ctx, "operator", "Bravo", outID); err != nil {
		t.Fatal(err)
	}
	cs.org = o.ID
	for _, step := range []func() error{
		func() error {
			_, err := cs.e.App.Organizations.AddDomain(ctx, operator, o.ID, "alpha.example")
			return err
		},
		func() error {
			_, err := cs.e.App.Organizations.ApproveDomain(ctx, operator, o.ID, "alpha.example")
			return err
		},
		func() error {
			_, err := cs.e.App.Organizations.AddMember(ctx, operator, o.ID, "member@alpha.example", authz.RoleMember)
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return cs
}

func (cs *console) journalRows(t *testing.T) int {
	t.Helper()
	var n int
	if err := cs.e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fill names the organization's own things in a console route's path.
func (cs *console) fill(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.TrimSuffix(path, "{$}")
	return method, strings.NewReplacer("{org}", cs.org, "{account}", cs.memberID, "{id}", "x_1", "{domain}", "alpha.example",
		"{file}", "console.css").Replace(path)
}

// post sends a form with extra headers.
func post(t *testing.T, c *http.Client, u string, form url.Values, header map[string]string) int {
	t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestConsoleRefusals enumerates every page route the server serves (the
// authz table's Web routes): each POST refuses, changing nothing, a form
// without a CSRF token, with another session's token (a stale one: that
// session has ended) and a cross-origin one carrying the right token; each
// organization page answers 404 to an owner of another organization and 403
// to a plain member, even with their own valid token.
func TestConsoleRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		cs := newConsole(t, d)
		// A stale token: the session it was bound to has ended.
		stale, staleTok, _ := cs.person(t, "gone@alpha.example")
		if st, _, _ := page(t, stale, "POST", cs.e.URL("/logout"), url.Values{"csrf": {staleTok}}); st != http.StatusSeeOther {
			t.Fatalf("logout: %d", st)
		}
		n := 0
		for _, pattern := range cs.e.API.Routes() {
			if a, _ := authz.Lookup(pattern); a != authz.Web {
				continue
			}
			n++
			method, path := cs.fill(pattern)
			u := cs.e.URL(path)
			t.Run(pattern, func(t *testing.T) {
				before := cs.journalRows(t)
				if method == "POST" {
					cases := []struct {
						name   string
						form   url.Values
						header map[string]string
					}{
						{"no token", url.Values{}, nil},
						{"stale token", url.Values{"csrf": {staleTok}}, nil},
						{"another session's token", url.Values{"csrf": {cs.memberTok}}, nil},
						{"cross-origin (Sec-Fetch-Site)", url.Values{"csrf": {cs.ownerTok}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
						{"cross-origin (Origin)", url.Values{"csrf": {cs.ownerTok}}, map[string]string{"Origin": "http://attacker.example"}},
					}
					for _, c := range cases {
						if st := post(t, cs.owner, u, c.form, c.header); st != http.StatusForbidden {
							t.Errorf("%s: %d, want 403", c.name, st)
						}
					}
				}
				if strings.Contains(pattern, "{org}") {
					for _, who := range []struct {
						name string
						c    *http.Client
						tok  string
						want int
					}{{"owner of another organization", cs.out, cs.outTok, 404}, {"plain member", cs.member, cs.memberTok, 403}} {
						var st int
						if method == "POST" {
							st = post(t, who.c, u, url.Values{"csrf": {who.tok}, "role": {"owner"}, "email": {"x@alpha.example"}, "domain": {"x.example"}}, nil)
						} else {
							st, _, _ = page(t, who.c, "GET", u, nil)
						}
						if st != who.want {
							t.Errorf("%s: %d, want %d", who.name, st, who.want)
						}
					}
				}
				if after := cs.journalRows(t); after != before {
					t.Errorf("refused requests wrote %d journal rows", after-before)
				}
			})
		}
		if n < 30 {
			t.Fatalf("only %d page routes enumerated", n)
		}
	})
}
