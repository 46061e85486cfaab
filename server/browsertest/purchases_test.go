package browsertest

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/server/mail/mailtest"
)

// purchases runs the Secure Exchanges procedure in the shared browser
// against the real binary on both databases, in French and in English, with
// JavaScript on and off: the admin signs in, opens Licenses and purchases,
// chooses a plan and 3 licenses, adds them to the cart, validates, confirms
// with a purchase order; the vendor's operator records the payment on the
// operator pages; the admin opens
// the member's license icon, chooses the purchased plan and saves; the
// member's confirmation mail arrives at the test SMTP server. axe-core
// checks each new page.
func (f *fixture) purchases(t *testing.T) {
	axe := loadAxe(t)
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ce := &consoleEnv{bin: f.bin, axe: axe}
			if dialect == "sqlite" {
				ce.dsn = "sqlite:" + filepath.Join(t.TempDir(), "purchases.db")
			} else {
				ce.dsn = testenv.PostgresDB(t)
			}
			smtp := mailtest.Start(t)
			cli(t, ce.bin, ce.dsn, "migrate")
			ce.srv = startServer(t, ce.bin, "--db", ce.dsn, "--smtp-host", smtp.Host(), "--smtp-port", strconv.Itoa(smtp.Port()),
				"--smtp-tls", "none", "--smtp-from", "entitle@vendor.example")
			for _, lang := range []string{"en", "fr"} {
				for _, js := range []bool{false, true} {
					name := lang + map[bool]string{false: ", JavaScript off", true: ", JavaScript on"}[js]
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						ce.buyAndAssign(t, f.br, smtp, dialect, lang, js)
					})
				}
			}
		})
	}
}

// purchaseWords are what the pages say in each language, as the procedure names them.
var purchaseWords = map[string]map[string]string{
	"en": {"purchases": "Licenses and purchases of", "added": "added to the cart", "validated": "validated",
		"awaiting": "awaiting payment", "paid": "paid", "assigned": "confirmation email", "invoice": "Invoice"},
	"fr": {"purchases": "Licences et achats de", "added": "ajoutées à votre panier", "validated": "validés",
		"awaiting": "en attente de paiement", "paid": "payée", "assigned": "courriel de confirmation", "invoice": "Facture"},
}

func (ce *consoleEnv) buyAndAssign(t *testing.T, br *browser, smtp *mailtest.Server, dialect, lang string, js bool) {
	w := purchaseWords[lang]
	tag := lang + map[bool]string{false: "-off", true: "-on"}[js]
	domain := tag + ".secure.example"
	admin := ce.person(t, "admin@"+domain)
	member := ce.person(t, "marie@"+domain)
	var org, plan struct {
		ID string `json:"id"`
	}
	cliJSON(t, ce.bin, ce.dsn, "", &org, "org", "create", "--name", "Secure "+tag, "--owner", admin.email, "--json")
	cliJSON(t, ce.bin, ce.dsn, "", &struct{}{}, "org", "domain", "approve", org.ID, domain, "--json")
	cliJSON(t, ce.bin, ce.dsn, "", &struct{}{}, "org", "member", "add", org.ID, "--email", member.email, "--json")
	cliJSON(t, ce.bin, ce.dsn, "", &plan, "plan", "create", "--code", "pro-"+tag, "--name", "Pro "+tag, "--price-cents", "4900", "--json")
	base := ce.srv.Base
	orgBase := base + "/orgs/" + org.ID
	shot := dialect + "-" + tag

	// Sign in, in the language of the run.
	tb := br.open(t, js)
	fatalStatus(t, "GET /login", tb.open(base+"/login"), http.StatusOK, tb)
	if resp := tb.signIn(admin); resp.Status != http.StatusOK {
		t.Fatalf("sign in: %d %s", resp.Status, resp.URL)
	}
	if lang == "fr" {
		tb.click(`//button[@value="fr"]`)
	}

	// Options > Licenses and purchases: the plans on sale; choose the plan
	// and the number of licenses, add.
	tb.click(`//nav//a[@href="/orgs/` + org.ID + `/purchases"]`)
	tb.mustContain(`//h1`, w["purchases"])
	tb.accessible(ce.axe)
	tb.screenshot("purchases-" + shot)
	tb.do(chromedp.SetValue(chromedp.Search(`//select[@id="plan"]`), plan.ID), chromedp.SetValue(chromedp.Search(`//input[@id="quantity"]`), "3"))
	tb.click(`//form[@id="buy"]//button[@id="add"]`)
	tb.mustContain(`//p[@class="notice"]`, w["added"])
	if q := tb.count(`//tr[@class="line"]//input[@name="quantity" and @value="3"]`); q != 1 {
		t.Fatalf("the cart has no line of 3 licenses\n%s", tb.html())
	}
	tb.accessible(ce.axe)
	tb.screenshot("purchases-cart-" + shot)

	// Validate my purchases; the confirmation; proceed to purchase with a
	// purchase order.
	tb.click(`//button[@id="validate"]`)
	tb.mustContain(`//p[@class="notice"]`, w["validated"])
	tb.accessible(ce.axe)
	tb.typeInto(`//input[@id="purchase-order"]`, "BC-2026-17")
	tb.click(`//button[@id="proceed"]`)
	tb.mustContain(`//dd[@id="status"]`, w["awaiting"])
	number := tb.text(`//dd[@id="invoice-number"]`)
	if !strings.HasPrefix(number, fmt.Sprint(time.Now().UTC().Year())+"-") {
		t.Fatalf("invoice number %q", number)
	}
	tb.accessible(ce.axe)
	tb.screenshot("purchases-order-" + shot)
	u, err := url.Parse(tb.location())
	if err != nil {
		t.Fatal(err)
	}
	orderID := u.Path[strings.LastIndex(u.Path, "/")+1:]

	// The printable invoice, under the cookie session.
	invoice := tb.fetchAs(orgBase+"/orders/"+orderID+"/invoice", "text/html")
	if !strings.Contains(invoice, number) || !strings.Contains(invoice, "BC-2026-17") {
		t.Fatalf("the invoice page has no number %s or purchase order\n%s", number, invoice)
	}

	// The vendor's operator records the payment from the console's
	// operator pages (this run's admin is made an operator for it).
	cli(t, ce.bin, ce.dsn, "operator", "grant", admin.email)
	for _, page := range []string{"/operator/orgs", "/operator/plans", "/operator/orders"} {
		fatalStatus(t, "GET "+page, tb.open(base+page), http.StatusOK, tb)
		tb.accessible(ce.axe)
	}
	tb.typeInto(`//input[@id="ref-`+orderID+`"]`, "VIR-"+tag)
	tb.click(`//tr[@class="order"][td[@class="invoice-number" and normalize-space()="` + number + `"]]//button`)
	tb.accessible(ce.axe)
	tb.screenshot("operator-payment-" + shot)
	tb.click(`//button[@id="confirm"]`)
	fatalStatus(t, "GET order", tb.open(orgBase+"/orders/"+orderID), http.StatusOK, tb)
	tb.mustContain(`//dd[@id="status"]`, w["paid"])
	fatalStatus(t, "GET purchases", tb.open(orgBase+"/purchases"), http.StatusOK, tb)
	if tb.text(`//tr[@class="subscription"]/td[@class="seats"]`) != "3" || tb.text(`//tr[@class="subscription"]/td[@class="free"]`) != "3" {
		t.Fatalf("the paid seats are not in the pool\n%s", tb.html())
	}

	// User management > the license icon at the end of the member's row >
	// the purchased plan > save.
	fatalStatus(t, "GET members", tb.open(orgBase+"/members"), http.StatusOK, tb)
	tb.accessible(ce.axe)
	tb.click(fmt.Sprintf(`//tr[td[@class="email" and normalize-space()=%q]]//a[contains(@class,"license-icon")]`, member.email))
	tb.accessible(ce.axe)
	tb.click(`//button[@id="save"]`)
	tb.mustContain(`//p[@class="notice"]`, w["assigned"])
	if tb.count(`//tr[@class="assigned-license"]`) != 1 {
		t.Fatalf("the member's page shows no assigned license\n%s", tb.html())
	}
	tb.accessible(ce.axe)
	tb.screenshot("purchases-license-" + shot)

	// The member's confirmation mail arrives.
	deadline := time.Now().Add(30 * time.Second)
	for {
		i := slices.IndexFunc(smtp.Mails(), func(m mailtest.Mail) bool {
			return slices.Contains(m.To, member.email) && strings.Contains(m.Subject, "Pro "+tag)
		})
		if i >= 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no assignment mail to %s; got %d mails", member.email, len(smtp.Mails()))
		}
		smtp.Wait(len(smtp.Mails())+1, time.Second)
	}

	// Release, with a confirmation that says what happens to the computers.
	tb.click(`//a[contains(@href,"/release")]`)
	tb.accessible(ce.axe)
	if c := tb.text(`//p[@class="consequence"]`); !strings.Contains(c, member.email) {
		t.Fatalf("the release confirmation does not name the member: %q", c)
	}
	tb.click(`//button[@id="confirm"]`)
	if tb.count(`//tr[@class="assigned-license"]`) != 0 {
		t.Fatalf("the license is still assigned after release\n%s", tb.html())
	}
}
