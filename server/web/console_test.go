package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/server/authz"
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

// TestInvitationWithAnExistingAccount: an invitee who already has an account
// signs in from the invitation page, comes back to it and joins with one
// button; the invitation then works no more.
func TestInvitationWithAnExistingAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		cs := newConsole(t, d)
		cs.e.Account(t, "known@alpha.example", password, 1, time.Now().AddDate(1, 0, 0))
		_, secret, err := cs.e.App.Organizations.Invite(context.Background(), operator, cs.org, "known@alpha.example", authz.RoleAdmin, "en")
		if err != nil {
			t.Fatal(err)
		}
		c := cs.e.Browser(t)
		acceptURL := "/invitations/accept?token=" + url.QueryEscape(secret)
		st, _, body := page(t, c, "GET", cs.e.URL(acceptURL), nil)
		if st != 200 || !strings.Contains(body, `href="/login?invitation=`) {
			t.Fatalf("accept page (%d) has no sign-in link that keeps the invitation:\n%s", st, body)
		}
		_, _, body = page(t, c, "GET", cs.e.URL("/login?invitation="+url.QueryEscape(secret)), nil)
		st, loc, _ := page(t, c, "POST", cs.e.URL("/login"), url.Values{"csrf": {csrf(t, body)}, "email": {"known@alpha.example"},
			"password": {password}, "flow": {"invitation"}, "invitation": {secret}})
		if st != http.StatusSeeOther || loc != acceptURL {
			t.Fatalf("sign in from the invitation: %d -> %q, want %q", st, loc, acceptURL)
		}
		_, _, body = page(t, c, "GET", cs.e.URL(loc), nil)
		if !strings.Contains(body, "You join as known@alpha.example") {
			t.Fatalf("signed-in accept page:\n%s", body)
		}
		tok := csrf(t, body)
		if st, loc, _ := page(t, c, "POST", cs.e.URL("/invitations/accept"), url.Values{"csrf": {tok}, "token": {secret}}); st != http.StatusSeeOther || loc != "/account?joined=1" {
			t.Fatalf("join: %d -> %q", st, loc)
		}
		_, _, body = page(t, c, "GET", cs.e.URL("/orgs/"+cs.org+"/members"), nil)
		if !strings.Contains(body, "known@alpha.example") {
			t.Fatalf("the new admin does not see the members page:\n%s", body)
		}
		_, _, body = page(t, c, "GET", cs.e.URL("/account"), nil)
		if st, _, again := page(t, c, "POST", cs.e.URL("/invitations/accept"), url.Values{"csrf": {csrf(t, body)}, "token": {secret}}); st != http.StatusGone || !strings.Contains(again, "already used") {
			t.Fatalf("second use: %d\n%s", st, again)
		}
	})
}
