package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/internal/dnstest"
	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/adminapi"
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

// mailTo waits for the one mail sent to addr and returns it.
func (e *enterprise) mailTo(addr string) mailtest.Mail {
	e.t.Helper()
	var found []mailtest.Mail
	testenv.WaitFor(e.t, 30*time.Second, "a mail to "+addr, func() bool {
		found = found[:0]
		for _, m := range e.relay.Mails() {
			for _, to := range m.To {
				if strings.EqualFold(to, addr) {
					found = append(found, m)
				}
			}
		}
		return len(found) > 0
	})
	return found[0]
}

var acceptLinkRE = regexp.MustCompile(`/invitations/accept\?token=([A-Za-z0-9_%=-]+)`)

// TestEnterpriseProcedure is the Secure Exchanges procedure over HTTP with
// the real server and agent binaries, on SQLite and PostgreSQL: an
// organization proves its email domain through DNS, invites a colleague by
// mail, who joins; every step is in the organization's journal with the
// caller's IP.
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

	// The journal tells each step, with the caller's address.
	var page paging.Page[accountapi.JournalEntry]
	e.call(http.StatusOK, "GET", orgPath(adminapi.PathOrgs+"/{org}/journal", org.ID)+"?limit=100", admin, nil, &page)
	seen := map[string]accountapi.JournalEntry{}
	for _, j := range page.Items {
		seen[j.Action] = j
	}
	for _, action := range []string{"org.create", "org.domain.add", "org.domain.verify", "org.invitation.create", "org.invitation.accept"} {
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
