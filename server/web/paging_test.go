package web_test

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

var nextPage = regexp.MustCompile(`href="/account/computers\?cursor=([^"]+)" rel="next">Next page`)

// TestAccountPagePagesComputers: an account with more computers than a page
// shows them all across pages, each once, with the total.
func TestAccountPagePagesComputers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		const n = 130
		lic := e.Account(t, email, password, n, time.Now().AddDate(1, 0, 0))
		// More computers than the activation rate limit lets in quickly:
		// written directly, as activations would.
		now := time.Now().UnixMilli()
		for i := range n {
			if _, err := e.DB.Exec(context.Background(), `INSERT INTO devices (id, license_id, fingerprint, product, hostname, os, arch,
				credential_hash, activated_at, last_seen_at) VALUES (?, ?, ?, 'entitle', ?, 'linux', 'amd64', ?, ?, ?)`,
				fmt.Sprint("dev_page_", i), lic.ID, apitest.Fingerprint(fmt.Sprint("pc-", i)), fmt.Sprintf("host-%03d", i),
				fmt.Sprint("hash-", i), now+int64(i%4), now); err != nil {
				t.Fatal(err)
			}
		}
		c := e.Browser(t)
		signIn(t, e, c)
		seen := map[string]int{}
		host := regexp.MustCompile(`host-\d{3}`)
		u := "/account/computers"
		pages := 0
		for {
			st, _, body := page(t, c, "GET", e.URL(u), nil)
			if st != 200 || !strings.Contains(body, fmt.Sprint(n, " computers in all.")) {
				t.Fatalf("page %s (%d) lacks the total:\n%s", u, st, body)
			}
			pages++
			for _, h := range host.FindAllString(body, -1) {
				seen[h]++
			}
			m := nextPage.FindStringSubmatch(body)
			if m == nil {
				break
			}
			u = "/account/computers?cursor=" + url.QueryEscape(html.UnescapeString(m[1]))
		}
		if pages != 2 || len(seen) != n {
			t.Fatalf("%d pages, %d computers; want 2 and %d", pages, len(seen), n)
		}
		for h, c := range seen {
			if c != 1 {
				t.Errorf("%s shown %d times", h, c)
			}
		}
		// A cursor the server did not issue shows the first page.
		if st, _, body := page(t, c, "GET", e.URL("/account/computers?cursor=bogus"), nil); st != 200 || !nextPage.MatchString(body) {
			t.Fatalf("bogus cursor: %d", st)
		}
	})
}
