package web_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// BenchmarkComputersPage measures the organization's computers page over
// loopback HTTP (the session, the role check, the navigation, the filter's
// workspaces, one page of 50 with its total, the template) at 10,000
// computers in one organization: 100 members with 100 each (target:
// < 100 ms a page).
func BenchmarkComputersPage(b *testing.B) {
	storetest.EachBench(b, func(b *testing.B, d store.Dialect) {
		e := apitest.Start(b, d)
		ctx := context.Background()
		e.Account(b, email, password, 1, time.Now().AddDate(1, 0, 0))
		owner, err := e.App.Organizations.AccountIDByEmail(ctx, email)
		if err != nil {
			b.Fatal(err)
		}
		o, err := e.App.Organizations.Create(ctx, "operator", "Bench", owner)
		if err != nil {
			b.Fatal(err)
		}
		const members, per = 100, 100
		now := time.Now().UnixMilli()
		q := `INSERT INTO devices (id, license_id, organization_id, fingerprint, product, hostname, os, credential_hash, activated_at,
			last_seen_at, suspended_at)
			WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < CAST(? AS INTEGER)),
			num(j) AS (SELECT i + CAST(? AS INTEGER) FROM seq)
			SELECT 'dev_b_' || j, ?, ?, 'fp' || j, 'bench', 'host-' || j, 'linux', 'cred' || j,
			CAST(? AS BIGINT) - j * 1000, CAST(? AS BIGINT) - (j * 7919 % 172800) * 1000,
			CASE WHEN j % 13 = 0 THEN CAST(? AS BIGINT) ELSE NULL END FROM num`
		for m := range members {
			addr := fmt.Sprintf("user%03d@bench.example", m)
			e.Account(b, addr, password, 1, time.Now().AddDate(1, 0, 0))
			l := apptest.OrgLicense(b, e.App, e.DB, o.ID, addr, []string{"Pro", "Team"}[m%2], per, licenses.ManagedRemote)
			if _, err := e.DB.Exec(ctx, q, per, m*per, l.ID, o.ID, now, now, now); err != nil {
				b.Fatalf("seed: %v", err)
			}
		}
		c := e.Browser(b)
		get := func(u string) string {
			resp, err := c.Get(u)
			if err != nil {
				b.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("GET %s: %d\n%s", u, resp.StatusCode, body)
			}
			return string(body)
		}
		body := get(e.URL("/login"))
		resp, err := c.PostForm(e.URL("/login"), url.Values{"csrf": {csrfOf(b, body)}, "email": {email}, "password": {password}})
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		base := e.URL("/orgs/" + o.ID + "/computers")
		if page := get(base); !strings.Contains(page, "10,000 computers in all.") {
			b.Fatalf("the page does not count 10,000 computers:\n%s", page)
		}
		for _, bc := range []struct{ name, query string }{
			{"last_seen", ""},
			{"hostname", "?sort=hostname&order=asc"},
			{"user", "?sort=user"},
			{"online", "?status=online"},
			{"search", "?q=host-99"},
			{"member", "?user=user042@bench.example"},
		} {
			b.Run(bc.name, func(b *testing.B) {
				u := base + bc.query
				start := time.Now()
				for b.Loop() {
					get(u)
				}
				b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/page")
			})
		}
	})
}

func csrfOf(tb testing.TB, body string) string {
	tb.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		tb.Fatalf("no CSRF token in page")
	}
	return html.UnescapeString(m[1])
}
