package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestLanguageFollowsTheAccount: Accept-Language decides until the person
// chooses; the choice is remembered in this browser (cookie) and on the
// account, so another browser that signs in shows it too.
func TestLanguageFollowsTheAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		cs := newConsole(t, d)
		get := func(c *http.Client, lang string) string {
			req, _ := http.NewRequest("GET", cs.e.URL("/account"), nil)
			if lang != "" {
				req.Header.Set("Accept-Language", lang)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		if body := get(cs.owner, "fr-CH, fr;q=0.9"); !strings.Contains(body, `<html lang="fr">`) || !strings.Contains(body, "Vos licences") {
			t.Fatalf("Accept-Language fr did not give French:\n%s", body)
		}
		if st, loc, _ := page(t, cs.owner, "POST", cs.e.URL("/language"), url.Values{"csrf": {cs.ownerTok}, "lang": {"fr"}, "next": {"//evil.example/x"}}); st != http.StatusSeeOther || loc != "/account" {
			t.Fatalf("language switch: %d -> %q (an off-site next must not be followed)", st, loc)
		}
		if body := get(cs.owner, "en"); !strings.Contains(body, "Vos licences") {
			t.Fatalf("the chosen language did not win over Accept-Language:\n%s", body)
		}
		// Another browser, no cookie, English preferences: the account's choice.
		other := cs.e.Browser(t)
		_, _, body := page(t, other, "GET", cs.e.URL("/login"), nil)
		if st, _, _ := page(t, other, "POST", cs.e.URL("/login"), url.Values{"csrf": {csrf(t, body)}, "email": {"owner@alpha.example"}, "password": {password}}); st != http.StatusSeeOther {
			t.Fatalf("sign in: %d", st)
		}
		if body := get(other, "en"); !strings.Contains(body, "Vos licences") {
			t.Fatalf("the account's language did not follow it to another browser:\n%s", body)
		}
		if st, _, _ := page(t, cs.owner, "POST", cs.e.URL("/language"), url.Values{"csrf": {cs.ownerTok}, "lang": {"de"}}); st != http.StatusBadRequest {
			t.Fatalf("unknown language: %d", st)
		}
	})
}

// TestJournalPageFilters: the organization's journal filters by person,
// action and days, refuses a filter it cannot use, and exports the same
// rows as CSV.
func TestJournalPageFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		cs := newConsole(t, d)
		base := cs.e.URL("/orgs/" + cs.org)
		if st := post(t, cs.owner, base+"/invitations", url.Values{"csrf": {cs.ownerTok}, "email": {"new@alpha.example"}, "role": {"member"}}, nil); st != http.StatusSeeOther {
			t.Fatalf("invite: %d", st)
		}
		for _, tt := range []struct {
			query     string
			status    int
			want, not []string
		}{
			{"", 200, []string{"<code>org.invitation.create</code>", "<code>org.member.add</code>", "<code>org.domain.add</code>"}, nil},
			{"?action=org.invitation.*", 200, []string{"<code>org.invitation.create</code>"}, []string{"<code>org.member.add</code>"}},
			{"?user=owner%40alpha.example", 200, []string{"<code>org.invitation.create</code>"}, []string{"<code>org.member.add</code>"}},
			{"?user=nobody%40alpha.example", 200, []string{"No row matches."}, []string{"<code>org.invitation.create</code>"}},
			{"?since=2000-01-01&until=2000-01-02", 200, []string{"No row matches."}, nil},
			{"?since=yesterday", 400, []string{"The filter is not valid"}, nil},
			{"?action=drop%20table", 400, []string{"The filter is not valid"}, nil},
		} {
			st, _, body := page(t, cs.owner, "GET", base+"/journal"+tt.query, nil)
			if st != tt.status {
				t.Errorf("journal%s: %d, want %d", tt.query, st, tt.status)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("journal%s lacks %q", tt.query, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(body, w) {
					t.Errorf("journal%s shows %q", tt.query, w)
				}
			}
		}
		resp, err := cs.owner.Get(base + "/journal.csv?action=org.invitation.*")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(string(b), ",org.invitation.create,") || strings.Contains(string(b), ",org.member.add,") {
			t.Fatalf("CSV export: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	})
}
