package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/server/servertest"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/testenv"
)

// person is an account created with the operator's CLI, with one license.
type person struct {
	email, password string
	license         accountapi.LicenseJSON
}

type fixture struct {
	bin, dsn string
	srv      *server
	other    *otherSite
	br       *browser
	// One account per test, so each test's seat counts are its own.
	marie, ana, jonas person
}

// TestPages runs the real entitle-server and signs in, approves computers
// and releases seats through its pages in headless Chromium, with
// JavaScript off, as a person does.
func TestPages(t *testing.T) {
	testenv.LookPath(t, "chromium") // fail (CI) or skip before the slow build
	f := &fixture{bin: testenv.BuildBinary(t, "./server/cmd/entitle-server")}
	f.dsn = "sqlite:" + filepath.Join(t.TempDir(), "server.db")
	cli(t, f.bin, f.dsn, "migrate")
	f.marie = f.newPerson(t, "marie@example.com", "pro", 3)
	f.ana = f.newPerson(t, "ana@example.com", "pro", 2)
	f.jonas = f.newPerson(t, "jonas@example.com", "solo", 2)
	f.srv = startServer(t, f.bin, "--db", f.dsn)
	f.other = newOtherSite(t)
	f.br = startBrowser(t)

	t.Run("pages work without JavaScript", f.noJavaScript)
	t.Run("device authorization: sign in, approve, deny", f.deviceFlow)
	t.Run("account page releases a computer", f.releaseFromAccountPage)
	t.Run("forms posted from another site are refused", f.crossSiteForms)
	t.Run("console", f.console)
	t.Run("purchases: the Secure Exchanges procedure", f.purchases)

	log := f.srv.Stderr.String()
	for _, p := range []person{f.marie, f.ana, f.jonas} {
		if strings.Contains(log, p.password) {
			t.Errorf("a password reached the server log")
		}
	}
}

// cli runs an admin command of entitle-server against dsn.
func cli(t testing.TB, bin, dsn string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, "--db", dsn)...)
	cmd.Env = servertest.CleanEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("entitle-server %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
}

// newPerson creates an account and a license for it with the CLI, as an
// operator does.
func (f *fixture) newPerson(t *testing.T, email, plan string, seats int) person {
	t.Helper()
	p := person{email: email, password: "pw of " + email + " (correct horse)"}
	var acct accountapi.AccountJSON
	cliJSON(t, f.bin, f.dsn, p.password+"\n", &acct, "account", "create", "--email", email, "--password-stdin")
	if acct.Email != email {
		t.Fatalf("account create: %+v", acct)
	}
	cliJSON(t, f.bin, f.dsn, "", &p.license, "license", "create", "--owner", email, "--plan", plan,
		"--seats", fmt.Sprint(seats), "--days", "365")
	if p.license.Seats != seats || p.license.Key == "" {
		t.Fatalf("license create: %+v", p.license)
	}
	return p
}

// activate activates a computer by license key, as the agent does.
func (f *fixture) activate(t *testing.T, p person, hostname string) protocol.ActivateResponse {
	t.Helper()
	return activateOn(t, f.srv, p, hostname)
}

// activateOn activates a computer on srv by p's license key.
func activateOn(t *testing.T, srv *server, p person, hostname string) protocol.ActivateResponse {
	t.Helper()
	var resp protocol.ActivateResponse
	req := protocol.ActivateRequest{Method: protocol.MethodLicenseKey, LicenseKey: p.license.Key,
		Fingerprint: fingerprint(hostname), Product: "entitle", Device: facts(hostname)}
	if st := call(t, srv, "POST", protocol.PathActivations, "", req, &resp); st != http.StatusCreated {
		t.Fatalf("activate %s: status %d", hostname, st)
	}
	return resp
}

func (f *fixture) keys(t *testing.T) *lease.KeySet { return f.srv.Keys(t, apiClient) }

// agentFlow is a device authorization as the agent sees it.
type agentFlow struct {
	hostname string
	auth     protocol.DeviceAuthorizeResponse
	lastPoll time.Time
}

// authorize starts a device authorization for a computer (RFC 8628 3.1).
func (f *fixture) authorize(t *testing.T, hostname string) *agentFlow {
	t.Helper()
	a := &agentFlow{hostname: hostname}
	req := protocol.DeviceAuthorizeRequest{Fingerprint: fingerprint(hostname), Product: "entitle", Device: facts(hostname)}
	if st := call(t, f.srv, "POST", protocol.PathDeviceAuthorize, "", req.Form(), &a.auth); st != http.StatusOK {
		t.Fatalf("device authorize %s: status %d", hostname, st)
	}
	if a.auth.UserCode == "" || a.auth.DeviceCode == "" || a.auth.Interval <= 0 ||
		!strings.HasPrefix(a.auth.VerificationURIComplete, f.srv.Base+protocol.PathVerify+"?") {
		t.Fatalf("device authorize %s: %+v", hostname, a.auth)
	}
	return a
}

// poll polls /v1/device/token once, no sooner than the interval the server
// asked for after the previous poll, as a well-behaved agent does.
func (f *fixture) poll(t *testing.T, a *agentFlow) (int, protocol.ActivateResponse, protocol.Error) {
	t.Helper()
	if !a.lastPoll.IsZero() {
		time.Sleep(time.Until(a.lastPoll.Add(time.Duration(a.auth.Interval) * time.Second)))
	}
	var raw json.RawMessage
	st := call(t, f.srv, "POST", protocol.PathDeviceToken, "", protocol.DeviceTokenRequest{DeviceCode: a.auth.DeviceCode, ClientID: "entitle"}.Form(), &raw)
	a.lastPoll = time.Now()
	var resp protocol.DeviceTokenResponse
	var oe protocol.OAuthError
	out := any(&oe)
	if st == http.StatusOK {
		out = &resp
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s: poll: %d %q: %v", a.hostname, st, raw, err)
	}
	if st == http.StatusOK && (resp.AccessToken == "" || resp.TokenType != protocol.TokenTypeBearer || resp.ExpiresIn <= 0) {
		t.Fatalf("%s: token response %q lacks access_token, token_type or expires_in", a.hostname, raw)
	}
	return st, resp.Activation(), protocol.Error{Code: oe.Error, Message: oe.ErrorDescription}
}

// pollUntilAnswered polls until the answer is no longer authorization_pending.
func (f *fixture) pollUntilAnswered(t *testing.T, a *agentFlow) (int, protocol.ActivateResponse, protocol.Error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, resp, pe := f.poll(t, a)
		if st == http.StatusOK || pe.Code != protocol.ErrAuthorizationPending {
			return st, resp, pe
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still authorization_pending after 30s", a.hostname)
		}
	}
}

// signIn fills the sign-in form on the current page and submits it.
func (tb *tab) signIn(p person) *network.Response {
	tb.t.Helper()
	tb.typeInto(`//input[@name="email"]`, p.email)
	tb.typeInto(`//input[@name="password"]`, p.password)
	return tb.click(`//button[normalize-space()="Sign in"]`)
}

// noScripts checks that the server's page ships no inline script: only the
// console's own file (script-src 'self'), which the page works without.
func (tb *tab) noScripts() {
	tb.t.Helper()
	if n := tb.count(`//script[not(@src="/static/console.js")]`); n != 0 {
		tb.t.Fatalf("page %s has %d inline or foreign <script> elements\n%s", tb.location(), n, tb.html())
	}
}

func (f *fixture) noJavaScript(t *testing.T) {
	tb := f.br.newTab(t)
	// A page that would change its heading and title if a script ran.
	probe := f.other.serve("/probe", `<!doctype html><title>scripts off</title>
<h1 id="state">scripts off</h1>
<script>document.title = "scripts on"; document.getElementById("state").textContent = "scripts on";</script>`)
	fatalStatus(t, "GET probe", tb.open(probe), http.StatusOK, tb)
	if got := tb.text(`//h1[@id="state"]`); got != "scripts off" {
		t.Fatalf("JavaScript is on in the browser: the probe page says %q", got)
	}

	// The server's sign-in page works as it is: its form posts and signs in.
	fatalStatus(t, "GET /login", tb.open(f.srv.Base+"/login"), http.StatusOK, tb)
	tb.noScripts()
	resp := tb.signIn(f.ana)
	if resp.Status != http.StatusOK || resp.URL != f.srv.Base+"/account" {
		t.Fatalf("sign in without JavaScript: %d %s\n%s", resp.Status, resp.URL, tb.html())
	}
	tb.noScripts()
	tb.mustContain(`//h1`, "Your licenses")
}

// deviceFlow is RFC 8628 as a person does it: the computer shows a code, the
// person opens the link, signs in, sees which computer asks, and approves;
// the agent's poll then gets its lease. A second computer is denied.
func (f *fixture) deviceFlow(t *testing.T) {
	approved := f.authorize(t, "marie-laptop")
	denied := f.authorize(t, "marie-old-pc")
	for _, a := range []*agentFlow{approved, denied} {
		if st, _, pe := f.poll(t, a); st != http.StatusBadRequest || pe.Code != protocol.ErrAuthorizationPending {
			t.Fatalf("%s: first poll %d %+v, want authorization_pending", a.hostname, st, pe)
		}
	}

	tb := f.br.newTab(t)
	fatalStatus(t, "open verification_uri_complete", tb.open(approved.auth.VerificationURIComplete), http.StatusOK, tb)
	tb.noScripts()
	tb.mustContain(`//main`, "Sign in to connect the computer")
	if got := run(tb, chromedp.AttributeValue(chromedp.Search(`//input[@name="user_code"]`), "value")).Value; got != approved.auth.UserCode {
		t.Fatalf("the sign-in form holds code %q, want %q", got, approved.auth.UserCode)
	}
	tb.screenshot("device-sign-in")

	resp := tb.signIn(f.marie)
	if resp.Status != http.StatusOK || !strings.HasPrefix(resp.URL, f.srv.Base+protocol.PathVerify+"?user_code=") {
		t.Fatalf("sign in: %d %s\n%s", resp.Status, resp.URL, tb.html())
	}
	tb.noScripts()
	tb.mustContain(`//h1`, "Approve this computer?")
	if got := tb.text(`//dd[@class="host"]`); got != "marie-laptop" {
		t.Fatalf("the confirmation page names %q, want marie-laptop\n%s", got, tb.html())
	}
	tb.mustContain(`//dd[@class="os"]`, "linux amd64")
	tb.mustContain(`//main//dl`, approved.auth.UserCode)
	tb.mustContain(`//header`, f.marie.email)
	tb.screenshot("device-confirm")

	resp = tb.click(`//button[normalize-space()="Approve"]`)
	if resp.Status != http.StatusOK || resp.URL != f.srv.Base+protocol.PathVerify+"/approve" {
		t.Fatalf("approve: %d %s\n%s", resp.Status, resp.URL, tb.html())
	}
	tb.mustContain(`//h1`, "Computer approved")
	tb.screenshot("device-approved")

	// The second computer: still signed in, the link leads straight to the
	// confirmation page.
	fatalStatus(t, "open second verification_uri_complete", tb.open(denied.auth.VerificationURIComplete), http.StatusOK, tb)
	if got := tb.text(`//dd[@class="host"]`); got != "marie-old-pc" {
		t.Fatalf("the confirmation page names %q, want marie-old-pc\n%s", got, tb.html())
	}
	resp = tb.click(`//button[normalize-space()="Deny"]`)
	if resp.Status != http.StatusOK {
		t.Fatalf("deny: %d %s\n%s", resp.Status, resp.URL, tb.html())
	}
	tb.mustContain(`//h1`, "Request denied")

	st, got, pe := f.pollUntilAnswered(t, approved)
	if st != http.StatusOK {
		t.Fatalf("marie-laptop: poll after approval: %d %+v", st, pe)
	}
	if got.SeatsUsed != 1 || got.SeatsTotal != 3 || got.Credential == "" {
		t.Fatalf("marie-laptop: activation %+v", got)
	}
	claims, err := lease.Verify(got.Lease, f.keys(t), fingerprint("marie-laptop"), time.Now())
	if err != nil {
		t.Fatalf("marie-laptop: the lease does not verify: %v", err)
	}
	if claims.DeviceID() != got.DeviceID || claims.License.Plan != "pro" {
		t.Fatalf("marie-laptop: lease claims %+v", claims)
	}
	if st, code := checkin(t, f.srv, got.Credential, "marie-laptop"); st != http.StatusOK {
		t.Fatalf("marie-laptop: check-in with the new credential: %d %s", st, code)
	}

	if st, _, pe := f.pollUntilAnswered(t, denied); st != http.StatusBadRequest || pe.Code != protocol.ErrAccessDenied {
		t.Fatalf("marie-old-pc: poll after denial: %d %+v, want access_denied", st, pe)
	}

	// The computers page lists the approved computer only.
	fatalStatus(t, "GET /account/computers", tb.open(f.srv.Base+"/account/computers"), http.StatusOK, tb)
	if tb.count(deviceRow("marie-laptop")) != 1 || tb.count(deviceRow("marie-old-pc")) != 0 {
		t.Fatalf("account page after approve and deny:\n%s", tb.html())
	}
}

// deviceRow selects the account page's table row of a computer.
func deviceRow(hostname string) string {
	return fmt.Sprintf(`//tr[@class="device"][td[1][normalize-space()=%q]]`, hostname)
}

const seatsCell = `//tr[@class="license"]/td[@class="seats"]`

func (f *fixture) releaseFromAccountPage(t *testing.T) {
	desk := f.activate(t, f.ana, "ana-desktop")
	if st, code := checkin(t, f.srv, desk.Credential, "ana-desktop"); st != http.StatusOK {
		t.Fatalf("check-in before release: %d %s", st, code)
	}

	tb := f.br.newTab(t)
	// Signed out, the account page sends the person to sign in.
	resp := run(tb, chromedp.NavigateResponse(f.srv.Base+"/account"))
	if resp.Status != http.StatusOK || resp.URL != f.srv.Base+"/login" {
		t.Fatalf("GET /account signed out: %d %s", resp.Status, resp.URL)
	}
	tb.mustContain(`//h1`, "Sign in")
	tb.screenshot("login")
	resp = tb.signIn(f.ana)
	if resp.Status != http.StatusOK || resp.URL != f.srv.Base+"/account" {
		t.Fatalf("sign in: %d %s\n%s", resp.Status, resp.URL, tb.html())
	}
	tb.noScripts()
	tb.mustContain(`//tr[@class="license"]`, "pro", f.ana.license.Key)
	if got := tb.text(seatsCell); got != "1 of 2" {
		t.Fatalf("seats used before release: %q, want \"1 of 2\"", got)
	}
	tb.screenshot("account")
	fatalStatus(t, "GET /account/computers", tb.open(f.srv.Base+"/account/computers"), http.StatusOK, tb)
	tb.mustContain(deviceRow("ana-desktop"), "linux amd64", "Release this computer")

	// The link leads to a confirmation that says what happens; only its
	// button releases.
	resp = tb.click(deviceRow("ana-desktop") + `//a[normalize-space()="Release this computer"]`)
	if resp.Status != http.StatusOK {
		t.Fatalf("release confirmation: %d %s\n%s", resp.Status, resp.URL, tb.html())
	}
	tb.mustContain(`//p[@class="consequence"]`, "within a second if online, at its next check-in otherwise")
	if st, code := checkin(t, f.srv, desk.Credential, "ana-desktop"); st != http.StatusOK {
		t.Fatalf("the confirmation page released the computer: %d %s", st, code)
	}
	resp = tb.click(`//button[@id="confirm"]`)
	if resp.Status != http.StatusOK || resp.URL != f.srv.Base+"/account/computers?released=1" {
		t.Fatalf("release: %d %s\n%s", resp.Status, resp.URL, tb.html())
	}
	tb.mustContain(`//p[@class="notice"]`, "its seat is free")
	tb.mustContain(deviceRow("ana-desktop"), "released")
	if n := tb.count(deviceRow("ana-desktop") + `//a`); n != 0 {
		t.Fatalf("a released computer still has a release link\n%s", tb.html())
	}
	tb.screenshot("account-released")
	fatalStatus(t, "GET /account", tb.open(f.srv.Base+"/account"), http.StatusOK, tb)
	if got := tb.text(seatsCell); got != "0 of 2" {
		t.Fatalf("seats used after release: %q, want \"0 of 2\"", got)
	}

	if st, code := checkin(t, f.srv, desk.Credential, "ana-desktop"); st != http.StatusGone || code != protocol.ErrDeviceRevoked {
		t.Fatalf("check-in after release: %d %s, want 410 %s", st, code, protocol.ErrDeviceRevoked)
	}
}

// crossSiteForms signs a person in, then has them open a page of another
// origin whose plain HTML forms post to the server's release, approve and
// sign-in endpoints. The two loopback ports are the same site, so the
// browser sends the session cookie (SameSite=Lax does not stop it): only the
// CSRF token can refuse these requests, and a 403 "Request refused" page
// (not a redirect to the sign-in page) shows the session was recognised.
func (f *fixture) crossSiteForms(t *testing.T) {
	laptop := f.activate(t, f.jonas, "jonas-laptop")
	waiting := f.authorize(t, "jonas-desktop")

	tb := f.br.newTab(t)
	fatalStatus(t, "GET /login", tb.open(f.srv.Base+"/login"), http.StatusOK, tb)
	if resp := tb.signIn(f.jonas); resp.Status != http.StatusOK || resp.URL != f.srv.Base+"/account" {
		t.Fatalf("sign in: %d %s\n%s", resp.Status, resp.URL, tb.html())
	}

	attacks := []struct {
		name, action string
		fields       map[string]string
	}{
		{"release with a forged token", "/account/devices/" + laptop.DeviceID + "/release", map[string]string{"csrf": "forged"}},
		{"release without a token", "/account/devices/" + laptop.DeviceID + "/release", nil},
		{"approve without a token", protocol.PathVerify + "/approve", map[string]string{"user_code": waiting.auth.UserCode}},
		{"sign in as the attacker", "/login", map[string]string{"csrf": "forged", "email": f.ana.email, "password": f.ana.password}},
	}
	for i, a := range attacks {
		var fields strings.Builder
		for k, v := range a.fields {
			fmt.Fprintf(&fields, `<input type="hidden" name="%s" value="%s">`, html.EscapeString(k), html.EscapeString(v))
		}
		page := f.other.serve(fmt.Sprintf("/prize-%d", i), fmt.Sprintf(`<!doctype html><title>You won!</title>
<form method="post" action="%s">%s<button id="claim">Claim your prize</button></form>`,
			html.EscapeString(f.srv.Base+a.action), fields.String()))
		fatalStatus(t, a.name+": open the other site", tb.open(page), http.StatusOK, tb)
		resp := tb.click(`//button[@id="claim"]`)
		if resp.Status != http.StatusForbidden || resp.URL != f.srv.Base+a.action {
			t.Fatalf("%s: %d %s, want 403 from %s\n%s", a.name, resp.Status, resp.URL, a.action, tb.html())
		}
		tb.mustContain(`//h1`, "Request refused")
		if i == 0 {
			tb.screenshot("csrf-refused")
		}
	}

	// Nothing changed: the laptop holds its seat, the other computer still
	// waits, and the session is still Jonas's.
	if st, code := checkin(t, f.srv, laptop.Credential, "jonas-laptop"); st != http.StatusOK {
		t.Fatalf("check-in after the refused release: %d %s", st, code)
	}
	if st, _, pe := f.poll(t, waiting); st != http.StatusBadRequest || pe.Code != protocol.ErrAuthorizationPending {
		t.Fatalf("poll after the refused approval: %d %+v, want authorization_pending", st, pe)
	}
	fatalStatus(t, "GET /account", tb.open(f.srv.Base+"/account"), http.StatusOK, tb)
	tb.mustContain(`//header`, f.jonas.email)
	if got := tb.text(seatsCell); got != "1 of 2" {
		t.Fatalf("seats used after the refused requests: %q, want \"1 of 2\"", got)
	}
	fatalStatus(t, "GET /account/computers", tb.open(f.srv.Base+"/account/computers"), http.StatusOK, tb)
	tb.mustContain(deviceRow("jonas-laptop"), "Release this computer")
	if tb.count(deviceRow("jonas-desktop")) != 0 {
		t.Fatalf("the refused approval activated jonas-desktop\n%s", tb.html())
	}
}
