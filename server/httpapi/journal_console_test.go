package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/workspaces"
)

// consoleOrg makes an organization as org does and returns a browser signed
// in as its owner, the CSRF token of its pages and the organization's id.
func (re *routeEnv) consoleOrg(t *testing.T) (*http.Client, string, string, string) {
	t.Helper()
	email, org, acct := re.ownedOrg(t)
	c, tok := re.signedIn(t, email)
	return c, tok, org, acct
}

// The console's organization pages' cases of TestEveryStateChangingRouteJournals.
func init() {
	page := func(org, p string) string { return "/orgs/" + org + p }
	journalCases["POST /orgs/{org}/invitations"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, _ := re.consoleOrg(t)
		return func() int {
			return post(t, c, re.URL(page(org, "/invitations")), url.Values{"csrf": {tok}, "email": {fmt.Sprintf("web%d@example.com", re.n)}, "role": {"member"}})
		}
	}
	journalCases["POST /orgs/{org}/members/{account}/role"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, _ := re.consoleOrg(t)
		acct := re.member(t, org)
		return func() int {
			return post(t, c, re.URL(page(org, "/members/"+acct+"/role")), url.Values{"csrf": {tok}, "role": {"admin"}})
		}
	}
	journalCases["POST /orgs/{org}/members/{account}/remove"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, _ := re.consoleOrg(t)
		acct := re.member(t, org)
		return func() int {
			return post(t, c, re.URL(page(org, "/members/"+acct+"/remove")), url.Values{"csrf": {tok}})
		}
	}
	journalCases["POST /orgs/{org}/invitations/{id}/revoke"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, _ := re.consoleOrg(t)
		inv, _, err := re.App.Organizations.Invite(context.Background(), operatorP, org, fmt.Sprintf("webrevoked%d@example.com", re.n), authz.RoleMember, "en")
		if err != nil {
			t.Fatal(err)
		}
		return func() int {
			return post(t, c, re.URL(page(org, "/invitations/"+inv.ID+"/revoke")), url.Values{"csrf": {tok}})
		}
	}
	journalCases["POST /orgs/{org}/domains"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, _ := re.consoleOrg(t)
		return func() int {
			return post(t, c, re.URL(page(org, "/domains")), url.Values{"csrf": {tok}, "domain": {fmt.Sprintf("web%d.example", re.n)}})
		}
	}
	journalCases["POST /orgs/{org}/domains/{domain}/verify"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, _ := re.consoleOrg(t)
		name := fmt.Sprintf("webv%d.example", re.n)
		d, err := re.App.Organizations.AddDomain(context.Background(), operatorP, org, name)
		if err != nil {
			t.Fatal(err)
		}
		re.dns.Set("_entitle-challenge."+name, d.Challenge)
		return func() int {
			return post(t, c, re.URL(page(org, "/domains/"+name+"/verify")), url.Values{"csrf": {tok}})
		}
	}
	journalCases["POST /invitations/accept"] = func(t *testing.T, re *routeEnv) func() int {
		_, _, org, _ := re.consoleOrg(t)
		_, secret, err := re.App.Organizations.Invite(context.Background(), operatorP, org, fmt.Sprintf("webaccepts%d@example.com", re.n), authz.RoleMember, "en")
		if err != nil {
			t.Fatal(err)
		}
		c := re.browser(t)
		tok := form(t, c, re.URL("/invitations/accept?token="+url.QueryEscape(secret)))
		return func() int {
			return post(t, c, re.URL("/invitations/accept"), url.Values{"csrf": {tok}, "token": {secret}, "password": {password}})
		}
	}
	journalCases["POST /orgs/{org}/workspaces"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, acct := re.consoleOrg(t)
		lics, err := re.App.Licenses.ListLicenses(context.Background(), acct)
		if err != nil || len(lics) == 0 {
			t.Fatalf("licenses: %v", err)
		}
		return func() int {
			return post(t, c, re.URL(page(org, "/workspaces")), url.Values{"csrf": {tok}, "name": {"Bureau"}, "license": {lics[0].ID}, "mode": {"local"}})
		}
	}
	journalCases["POST /orgs/{org}/workspaces/{id}/delete"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, acct := re.consoleOrg(t)
		lics, err := re.App.Licenses.ListLicenses(context.Background(), acct)
		if err != nil || len(lics) == 0 {
			t.Fatalf("licenses: %v", err)
		}
		ws, err := re.App.Workspaces.Create(context.Background(), workspaces.Owner{AccountID: acct, OrganizationID: org},
			accountapi.WorkspaceRequest{Name: "Atelier", LicenseID: lics[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		return func() int {
			return post(t, c, re.URL(page(org, "/workspaces/"+ws.ID+"/delete")), url.Values{"csrf": {tok}})
		}
	}
}
