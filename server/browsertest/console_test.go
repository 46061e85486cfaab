package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/entitle/entitle/internal/dnstest"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/server/store"
)

// consoleEnv is one real server (SQLite or PostgreSQL) for the console's
// flows, with the DNS server its domain proofs ask.
type consoleEnv struct {
	bin, dsn string
	srv      *server
	dns      *dnstest.Server
	axe      string
}

// console runs the console's flows in the shared browser against the real
// binary on both databases, each with JavaScript on and off, in parallel
// tabs, each flow in English and in French: sign in, language switch,
// domain proof, invitation and joining,
// workspace with the suggested name, journal filter and CSV, release of a
// lost computer; axe-core checks each page.
func (f *fixture) console(t *testing.T) {
	axe := loadAxe(t)
	// The checker finds what it must: a page with an unlabelled field and
	// no language is refused.
	bad := f.br.newTab(t)
	fatalStatus(t, "open a bad page", bad.open(f.other.serve("/inaccessible", `<!doctype html><title>x</title><input name="q">`)), http.StatusOK, bad)
	if v := bad.violations(axe); !strings.Contains(strings.Join(v, "\n"), "label") {
		t.Fatalf("axe-core found %q on a page with an unlabelled field", v)
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ce := &consoleEnv{bin: f.bin, axe: axe, dns: dnstest.Start(t)}
			if dialect == "sqlite" {
				ce.dsn = "sqlite:" + filepath.Join(t.TempDir(), "console.db")
			} else {
				ce.dsn = testenv.PostgresDB(t)
			}
			cli(t, ce.bin, ce.dsn, "migrate")
			ce.srv = startServer(t, ce.bin, "--db", ce.dsn, "--dns-resolver", ce.dns.Addr())
			for _, lang := range []string{"en", "fr"} {
				for _, js := range []bool{false, true} {
					name := lang + map[bool]string{false: ", JavaScript off", true: ", JavaScript on"}[js]
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						ce.flows(t, f.br, dialect, lang, js)
					})
				}
			}
		})
	}
}

func (ce *consoleEnv) person(t *testing.T, email string) person {
	t.Helper()
	p := person{email: email, password: "pw of " + email + " (correct horse)"}
	cliJSON(t, ce.bin, ce.dsn, p.password+"\n", &struct{}{}, "account", "create", "--email", email, "--password-stdin")
	cliJSON(t, ce.bin, ce.dsn, "", &p.license, "license", "create", "--owner", email, "--plan", "pro", "--seats", "3", "--days", "365")
	return p
}

func (ce *consoleEnv) flows(t *testing.T, br *browser, dialect, lang string, js bool) {
	// w is the catalog's text in the run's language: the pages say it.
	bundle := i18n.New()
	loc := bundle.Localizer(bundle.Match(lang))
	w := func(id string) string { return loc.T(id, nil) }
	tag := lang + "-" + map[bool]string{false: "off", true: "on"}[js]
	shot := dialect + "-js-" + tag
	domain := tag + ".acme.example"
	admin := ce.person(t, "admin@"+domain)
	var org struct {
		ID string `json:"id"`
	}
	cliJSON(t, ce.bin, ce.dsn, "", &org, "org", "create", "--name", "Acme "+tag, "--owner", admin.email, "--json")
	base := ce.srv.Base
	orgBase := base + "/orgs/" + org.ID

	// Sign in.
	tb := br.open(t, js)
	fatalStatus(t, "GET /login", tb.open(base+"/login"), http.StatusOK, tb)
	tb.accessible(ce.axe)
	if resp := tb.signIn(admin); resp.Status != http.StatusOK || resp.URL != base+"/account" {
		t.Fatalf("sign in: %d %s\n%s", resp.Status, resp.URL, tb.html())
	}
	tb.mustContain(`//h1`, "Your licenses")
	tb.mustContain(`//nav`, "My computers", "Members", "Journal")
	if lang == "fr" { // the French run stays in French
		tb.click(`//button[@value="fr"]`)
		tb.mustContain(`//nav`, w("web_nav_computers"), w("web_nav_members"), w("web_nav_journal"))
	}
	if tb.count(fmt.Sprintf(`//nav/h2[normalize-space()=%q]`, "Acme "+tag)) != 1 {
		t.Fatalf("the navigation has no section for the organization\n%s", tb.html())
	}
	tb.accessible(ce.axe)

	// The language switch: French, remembered on the next page, and back
	// (to the run's language).
	resp := tb.click(`//button[@value="fr"]`)
	if resp.URL != base+"/account" {
		t.Fatalf("language switch went to %s", resp.URL)
	}
	tb.mustContain(`//h1`, "Vos licences")
	if tb.count(`//html[@lang="fr"]`) != 1 {
		t.Fatalf("the French page is not lang=fr\n%s", tb.html())
	}
	tb.accessible(ce.axe)
	fatalStatus(t, "GET /account/computers", tb.open(base+"/account/computers"), http.StatusOK, tb)
	tb.mustContain(`//h1`, "Vos postes")
	tb.screenshot("console-computers-fr-" + shot)
	tb.click(`//button[@value="` + lang + `"]`)
	tb.mustContain(`//h1`, w("web_computers_title"))

	// Prove the domain through the test DNS server.
	fatalStatus(t, "GET domains", tb.open(orgBase+"/domains"), http.StatusOK, tb)
	tb.typeInto(`//input[@name="domain"]`, domain)
	tb.click(fmt.Sprintf(`//button[normalize-space()=%q]`, w("web_org_domain_add")))
	tb.mustContain(`//p[@class="notice"]`, w("web_org_domain_added"))
	record, value := tb.text(`//code[contains(@class,"txt-name")]`), tb.text(`//code[contains(@class,"txt-value")]`)
	if record != "_entitle-challenge."+domain || value == "" {
		t.Fatalf("TXT record %q = %q", record, value)
	}
	tb.accessible(ce.axe)
	tb.screenshot("console-domains-" + shot)
	ce.dns.Set(record, value)
	tb.click(fmt.Sprintf(`//tr[@class="domain"][td[1][normalize-space()=%q]]//button`, domain))
	tb.mustContain(`//p[@class="notice"]`, w("web_org_domain_verified"))
	tb.mustContain(`//tr[@class="domain"]`, w("web_domain_verified"))

	// Invite a member; the invitee joins from the mailed link.
	invitee := "new@" + domain
	fatalStatus(t, "GET members", tb.open(orgBase+"/members"), http.StatusOK, tb)
	tb.accessible(ce.axe)
	tb.typeInto(`//form[@id="invite"]//input[@name="email"]`, invitee)
	resp = tb.click(fmt.Sprintf(`//button[normalize-space()=%q]`, w("web_org_invite_button")))
	if !strings.HasPrefix(resp.URL, orgBase+"/invitations") {
		t.Fatalf("after inviting: %s\n%s", resp.URL, tb.html())
	}
	tb.mustContain(`//tr[@class="invitation"]`, invitee, w("web_invitation_pending"))
	tb.accessible(ce.axe)
	other := br.open(t, js)
	fatalStatus(t, "open the invitation", other.open(base+"/invitations/accept?token="+url.QueryEscape(ce.invitationToken(t, invitee))), http.StatusOK, other)
	other.accessible(ce.axe)
	other.typeInto(`//input[@name="password"]`, "a password for the newcomer")
	if resp := other.click(`//button[@id="join"]`); resp.URL != base+"/account?joined=1" {
		t.Fatalf("join: %s\n%s", resp.URL, other.html())
	}
	// The newcomer's browser has not chosen a language: English, its own.
	other.mustContain(`//p[@class="notice"]`, "You joined the organization")
	fatalStatus(t, "GET members", tb.open(orgBase+"/members"), http.StatusOK, tb)
	tb.mustContain(`//table`, invitee)
	tb.screenshot("console-members-" + shot)

	// A workspace with the suggested name.
	fatalStatus(t, "GET workspaces", tb.open(orgBase+"/workspaces"), http.StatusOK, tb)
	if got := run(tb, chromedp.Value(chromedp.Search(`//input[@name="name"]`))); got != "pro" {
		t.Fatalf("suggested workspace name %q, want the plan's name \"pro\"", got)
	}
	tb.accessible(ce.axe)
	tb.click(fmt.Sprintf(`//button[normalize-space()=%q]`, w("web_org_workspace_create")))
	tb.mustContain(`//tr[@class="workspace"]`, "pro")
	if got := run(tb, chromedp.Value(chromedp.Search(`//input[@name="name"]`))); got != "pro (2)" {
		t.Fatalf("next suggested name %q, want \"pro (2)\"", got)
	}

	// The journal, filtered, and its CSV export.
	fatalStatus(t, "GET journal", tb.open(orgBase+"/journal"), http.StatusOK, tb)
	tb.typeInto(`//input[@name="action"]`, "org.domain.*")
	tb.click(fmt.Sprintf(`//button[normalize-space()=%q]`, w("web_journal_filter")))
	n := tb.count(`//tr[@class="row"]`)
	if n != 2 || tb.count(`//tr[@class="row"]/td[@class="action"][not(starts-with(normalize-space(), "org.domain."))]`) != 0 {
		t.Fatalf("journal filtered on org.domain.*: %d rows\n%s", n, tb.html())
	}
	tb.accessible(ce.axe)
	tb.screenshot("console-journal-" + shot)
	href := run(tb, chromedp.AttributeValue(chromedp.Search(`//a[@id="csv"]`), "href"))
	csv := tb.fetch(base + href.Value)
	if !strings.Contains(csv, "org.domain.add") || !strings.Contains(csv, "org.domain.verify") || strings.Contains(csv, "org.invitation") {
		t.Fatalf("CSV export of the filter:\n%s", csv)
	}

	// Release a lost computer.
	lost := activateOn(t, ce.srv, admin, "lost-laptop-"+tag)
	fatalStatus(t, "GET computers", tb.open(base+"/account/computers"), http.StatusOK, tb)
	tb.click(deviceRow("lost-laptop-"+tag) + `//a`)
	tb.mustContain(`//p[@class="consequence"]`, w("web_release_consequence"))
	tb.accessible(ce.axe)
	if resp := tb.click(`//button[@id="confirm"]`); resp.URL != base+"/account/computers?released=1" {
		t.Fatalf("release: %s\n%s", resp.URL, tb.html())
	}
	tb.mustContain(deviceRow("lost-laptop-"+tag), w("web_released"))
	if st, code := checkin(t, ce.srv, lost.Credential, "lost-laptop-"+tag); st != http.StatusGone || code != protocol.ErrDeviceRevoked {
		t.Fatalf("check-in after release: %d %s", st, code)
	}
}

// invitationToken reads the invitation mail's link from the outbox, as the
// invitee's mailbox would show it.
func (ce *consoleEnv) invitationToken(t *testing.T, email string) string {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, ce.dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var raw string
	if err := db.QueryRow(ctx, "SELECT args FROM mail_outbox WHERE recipient = ? AND kind = 'invitation'", email).Scan(&raw); err != nil {
		t.Fatalf("invitation mail to %s: %v", email, err)
	}
	var args map[string]string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(args["accept_url"])
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("accept_url %q", args["accept_url"])
	}
	return u.Query().Get("token")
}

// fetch GETs u with the tab's cookies (a download the browser would save).
func (tb *tab) fetch(u string) string { return tb.fetchAs(u, "text/csv") }

// fetchAs GETs u with the tab's cookies and wants a 200 of content type ct.
func (tb *tab) fetchAs(u, ct string) string {
	tb.t.Helper()
	cookies := run(tb, chromedp.Action[[]*network.Cookie](func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
		r, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
		return r.Cookies, err
	}))
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		tb.t.Fatal(err)
	}
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		tb.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) {
		tb.t.Fatalf("GET %s: %d %s\n%s", u, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	return string(b)
}
