package organizations_test

import (
	"testing"

	"github.com/entitle/entitle/internal/dnstest"
	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/organizations"
	"github.com/entitle/entitle/server/store"
)

type fixture struct {
	*apptest.Fixture
	Orgs *organizations.Service
	DNS  *dnstest.Server
}

func newFixture(t testing.TB, d store.Dialect, tweak ...func(*app.Config)) *fixture {
	t.Helper()
	dns := dnstest.Start(t)
	f := apptest.New(t, d, append([]func(*app.Config){func(c *app.Config) { c.Resolver = dns.Resolver() }}, tweak...)...)
	return &fixture{Fixture: f, Orgs: f.App.Organizations, DNS: dns}
}

// account makes an account and returns its id.
func (f *fixture) account(email string) string {
	f.T.Helper()
	acc, err := f.Accounts.CreateAccount(f.Ctx, email, apptest.Password)
	if err != nil {
		f.T.Fatalf("create account %s: %v", email, err)
	}
	return acc.ID
}

var operator = authz.Principal{Operator: true, TokenID: "opt_test"}

func owner(org, acc string) authz.Principal {
	return authz.Principal{AccountID: acc, OrgID: org, Role: authz.RoleOwner}
}

func as(org, acc string, r authz.Role) authz.Principal {
	return authz.Principal{AccountID: acc, OrgID: org, Role: r}
}

// org makes an organization owned by a new account at domain, with the
// domain approved by the operator; it returns the org id and owner id.
func (f *fixture) org(name, domain string) (string, string) {
	f.T.Helper()
	own := f.account("owner@" + domain)
	o, err := f.Orgs.Create(f.Ctx, "account:"+own, name, own)
	if err != nil {
		f.T.Fatal(err)
	}
	if _, err := f.Orgs.ApproveDomain(f.Ctx, operator, o.ID, domain); err != nil {
		f.T.Fatal(err)
	}
	return o.ID, own
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if !fault.Is(err, code) {
		t.Fatalf("error %v, want code %s", err, code)
	}
}

// count runs a COUNT(*) query.
func (f *fixture) count(q string, args ...any) int {
	f.T.Helper()
	var n int
	if err := f.DB.QueryRow(f.Ctx, q, args...).Scan(&n); err != nil {
		f.T.Fatal(err)
	}
	return n
}
