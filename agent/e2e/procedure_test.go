package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/internal/dnstest"
	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/server/mail/mailtest"
)

// enterprise is a world whose server asks a test DNS server for domain
// challenges and sends its mail to a test SMTP relay.
type enterprise struct {
	*world
	dns   *dnstest.Server
	relay *mailtest.Server
}

func newEnterprise(t *testing.T, dsn string) *enterprise {
	dns, relay := dnstest.Start(t), mailtest.Start(t)
	w := newWorldWith(t, dsn, "--dns-resolver", dns.Addr(),
		"--smtp-host", relay.Host(), "--smtp-port", fmt.Sprint(relay.Port()), "--smtp-tls", "none",
		"--smtp-from", "Entitle <no-reply@entitle.test>")
	return &enterprise{world: w, dns: dns, relay: relay}
}

// call is world.api that fails the test on an unexpected status.
func (e *enterprise) call(want int, method, path, bearer string, body, out any) {
	e.t.Helper()
	if got := e.api(method, path, bearer, body, out); got != want {
		e.t.Fatalf("%s %s: %d, want %d", method, path, got, want)
	}
}

func orgPath(pattern, org string, more ...string) string {
	p := strings.Replace(pattern, "{org}", url.PathEscape(org), 1)
	for i := 0; i+1 < len(more); i += 2 {
		p = strings.Replace(p, more[i], url.PathEscape(more[i+1]), 1)
	}
	return p
}

// mailTo waits for the first mail sent to addr and returns it.
func (e *enterprise) mailTo(addr string) mailtest.Mail { return e.mailsTo(addr, 1)[0] }

// mailsTo waits until n mails were sent to addr and returns them in order.
func (e *enterprise) mailsTo(addr string, n int) []mailtest.Mail {
	e.t.Helper()
	var found []mailtest.Mail
	testenv.WaitFor(e.t, 30*time.Second, fmt.Sprintf("%d mails to %s", n, addr), func() bool {
		found = found[:0]
		for _, m := range e.relay.Mails() {
			for _, to := range m.To {
				if strings.EqualFold(to, addr) {
					found = append(found, m)
				}
			}
		}
		return len(found) >= n
	})
	return found
}

// page GETs path with a bearer token and returns the body.
func (e *enterprise) page(path, bearer string) string {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.serverURL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// operatorToken makes an operator token with the server CLI.
func (e *enterprise) operatorToken() string {
	e.t.Helper()
	out, err := run(e.t, "", e.serverBin, "operator", "token", "create", "--name", "billing desk", "--json", "--db", e.db)
	if err != nil {
		e.t.Fatal(err)
	}
	var tok adminapi.OperatorTokenJSON
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.Token == "" {
		e.t.Fatalf("operator token create: %q: %v", out, err)
	}
	return tok.Token
}

var acceptLinkRE = regexp.MustCompile(`/invitations/accept\?token=([A-Za-z0-9_%=-]+)`)

// TestEnterpriseProcedure is the Secure Exchanges procedure over HTTP with
// the real server and agent binaries, on SQLite and PostgreSQL: an
// organization proves its email domain through DNS, invites a colleague by
// mail, who joins; the admin orders seats like a cart (validate, confirm:
// an invoice), the vendor's operator records the payment, the admin assigns
// a seat to the colleague, who receives the confirmation mail and activates
// a real agent with their account; every step is in the organization's
// journal with the caller's IP.
func TestEnterpriseProcedure(t *testing.T) {
	for name, dsn := range map[string]func(*testing.T) string{
		"sqlite":   func(*testing.T) string { return "" },
		"postgres": func(t *testing.T) string { return testenv.PostgresDB(t) },
	} {
		t.Run(name, func(t *testing.T) { enterpriseProcedure(t, newEnterprise(t, dsn(t))) })
	}
}

func enterpriseProcedure(t *testing.T, e *enterprise) {
	admin := e.session()
	var org adminapi.OrgJSON
	e.call(http.StatusCreated, "POST", adminapi.PathOrgs, admin, adminapi.CreateOrgRequest{Name: "Cabinet Dupont & Associés"}, &org)

	// The domain is proved by a TXT record the admin publishes.
	var dom adminapi.DomainJSON
	e.call(http.StatusCreated, "POST", orgPath(adminapi.PathDomains, org.ID), admin, adminapi.AddDomainRequest{Domain: "dupont-associes.test"}, &dom)
	if dom.Status != "pending" || dom.RecordName == "" || dom.Challenge == "" {
		t.Fatalf("new domain: %+v", dom)
	}
	e.dns.Set(dom.RecordName, dom.Challenge)
	e.call(http.StatusOK, "POST", orgPath(adminapi.PathDomainVerify, org.ID, "{domain}", dom.Domain), admin, nil, &dom)
	if dom.Status != "verified" || dom.Method != "dns" {
		t.Fatalf("verified domain: %+v", dom)
	}

	// Only the approved domain can be invited.
	if code := e.api("POST", orgPath(adminapi.PathInvitations, org.ID), admin, adminapi.InviteRequest{Email: "x@elsewhere.test", Role: "member"}, nil); code < 400 {
		t.Fatalf("an unapproved domain was invited: %d", code)
	}
	const user, userPass = "camille.martin@dupont-associes.test", "correct horse battery staple"
	e.call(http.StatusCreated, "POST", orgPath(adminapi.PathInvitations, org.ID), admin, adminapi.InviteRequest{Email: user, Role: "member"}, nil)
	invitation := e.mailTo(user)
	m := acceptLinkRE.FindStringSubmatch(invitation.Text)
	if m == nil {
		t.Fatalf("no accept link in the invitation:\n%s", invitation.Text)
	}
	token, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	var acc adminapi.AcceptResponse
	e.call(http.StatusCreated, "POST", adminapi.PathInvitationAccept, "", adminapi.AcceptRequest{Token: token, Password: userPass}, &acc)
	if !acc.AccountCreated || acc.OrganizationID != org.ID || acc.Role != "member" {
		t.Fatalf("accept: %+v", acc)
	}

	// The vendor's catalog, then the cart: plan x quantity, validate, confirm.
	operator := e.operatorToken()
	var plan adminapi.PlanJSON
	e.call(http.StatusCreated, "POST", adminapi.PathOperatorPlans, operator, adminapi.CreatePlanRequest{Code: "pro", Name: "Signature Pro",
		Features: []string{"sign"}, MaxProfiles: 5, DevicesPerSeat: 1, TermMonths: 12, SeatPriceCents: 12000, Currency: "EUR"}, &plan)
	var order adminapi.OrderJSON
	e.call(http.StatusCreated, "POST", orgPath(adminapi.PathOrders, org.ID), admin, adminapi.CreateOrderRequest{
		Lines: []adminapi.LineRequest{{PlanID: plan.ID, Quantity: 3}}}, &order)
	if order.Status != "cart" || order.TotalCents != 36000 {
		t.Fatalf("cart: %+v", order)
	}
	e.call(http.StatusOK, "POST", orgPath(adminapi.PathOrderValidate, org.ID, "{order}", order.ID), admin, nil, &order)
	e.call(http.StatusOK, "POST", orgPath(adminapi.PathOrderConfirm, org.ID, "{order}", order.ID), admin, adminapi.ConfirmRequest{PurchaseOrder: "BC-2026-117"}, &order)
	if order.Status != "confirmed" || order.InvoiceNumber == "" {
		t.Fatalf("confirmed order: %+v", order)
	}
	if inv := e.page(orgPath(adminapi.PathOrderInvoice, org.ID, "{order}", order.ID), admin); !strings.Contains(inv, order.InvoiceNumber) || !strings.Contains(inv, "BC-2026-117") {
		t.Fatalf("the invoice page lacks its number or the purchase order:\n%s", inv)
	}
	// Nothing is assignable before the payment is recorded.
	var subs paging.Page[adminapi.SubscriptionJSON]
	e.call(http.StatusOK, "GET", orgPath(adminapi.PathSubscriptions, org.ID), admin, nil, &subs)
	if subs.Total != 0 {
		t.Fatalf("subscriptions before payment: %+v", subs)
	}
	e.call(http.StatusOK, "POST", strings.Replace(adminapi.PathOperatorOrderPayment, "{order}", order.ID, 1), operator, adminapi.PaymentRequest{Reference: "VIR 2026-12-03 DUPONT"}, &order)
	if order.Status != "paid" {
		t.Fatalf("paid order: %+v", order)
	}
	e.call(http.StatusOK, "GET", orgPath(adminapi.PathSubscriptions, org.ID), admin, nil, &subs)
	if subs.Total != 1 || subs.Items[0].Seats != 3 || subs.Items[0].Assigned != 0 {
		t.Fatalf("subscriptions after payment: %+v", subs)
	}

	// The license icon on the colleague's row: assign a seat of the plan.
	sub := subs.Items[0]
	var asg adminapi.AssignmentJSON
	e.call(http.StatusCreated, "POST", orgPath(adminapi.PathAssignments, org.ID, "{sub}", sub.ID), admin, adminapi.AssignRequest{Email: user}, &asg)
	if asg.AccountID != acc.AccountID || asg.LicenseID == "" {
		t.Fatalf("assignment: %+v", asg)
	}
	confirmation := e.mailsTo(user, 2)[1]
	if !strings.Contains(confirmation.Text, "entitle activate") && !strings.Contains(confirmation.Text, e.serverURL) {
		t.Fatalf("the assignment mail does not say how to install and activate:\n%s", confirmation.Text)
	}

	// The colleague activates a real agent with their account: the
	// assigned license is the one it takes.
	w2 := *e.world
	w2.email, w2.password = user, userPass
	a := w2.startAgent(filepath.Join(t.TempDir(), "state"))
	if _, err := a.cli(userPass+"\n", "activate", "--email", user, "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	st := a.waitState(20*time.Second, agentapi.StateActive)
	if st.Entitlement.Plan != "Signature Pro" {
		t.Fatalf("the agent runs on plan %q, want the assigned Signature Pro", st.Entitlement.Plan)
	}
	e.call(http.StatusOK, "GET", orgPath(adminapi.PathSubscription, org.ID, "{sub}", sub.ID), admin, nil, &sub)
	if sub.Assigned != 1 {
		t.Fatalf("subscription after assignment: %+v", sub)
	}

	// The journal tells each step, with the caller's address.
	var page paging.Page[accountapi.JournalEntry]
	e.call(http.StatusOK, "GET", orgPath(adminapi.PathOrgs+"/{org}/journal", org.ID)+"?limit=100", admin, nil, &page)
	seen := map[string]accountapi.JournalEntry{}
	for _, j := range page.Items {
		seen[j.Action] = j
	}
	for _, action := range []string{"org.create", "org.domain.add", "org.domain.verify", "org.invitation.create", "org.invitation.accept",
		"order.create", "order.validate", "order.confirm", "order.pay", "subscription.assign", "device.activate"} {
		j, ok := seen[action]
		if !ok {
			t.Errorf("journal lacks %s; has %v", action, actions(page.Items))
			continue
		}
		if j.IP != "127.0.0.1" {
			t.Errorf("journal %s: ip %q, want 127.0.0.1", action, j.IP)
		}
	}
}

func actions(items []accountapi.JournalEntry) []string {
	var out []string
	for _, j := range items {
		out = append(out, j.Action)
	}
	return out
}
