package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/entitle/entitle/server/app/apptest"
)

// consoleComputer makes an organization as consoleOrg does, with one
// remotely managed computer; it returns the owner's browser, the CSRF token
// of its pages, the organization and the computer.
func (re *routeEnv) consoleComputer(t *testing.T) (*http.Client, string, string, string) {
	t.Helper()
	c, tok, org, _ := re.consoleOrg(t)
	email, _, _ := re.person(t)
	lic := apptest.OrgLicense(t, re.App, re.DB, org, email, "Pro", 2, "remote")
	a, _ := re.activate(t, lic.Key)
	return c, tok, org, a.DeviceID
}

// The console's computer pages' cases of TestEveryStateChangingRouteJournals.
func init() {
	journalCases["POST /orgs/{org}/computers/commands"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, dev := re.consoleComputer(t)
		return func() int {
			return post(t, c, re.URL("/orgs/"+org+"/computers/commands"), url.Values{"csrf": {tok}, "type": {"refresh_lease"},
				"key": {"journal-web"}, "device": {dev}})
		}
	}
	journalCases["POST /orgs/{org}/computers/{id}/name"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, dev := re.consoleComputer(t)
		return func() int {
			return post(t, c, re.URL("/orgs/"+org+"/computers/"+dev+"/name"), url.Values{"csrf": {tok}, "name": {"Accueil"}})
		}
	}
	journalCases["POST /orgs/{org}/computers/{id}/release"] = func(t *testing.T, re *routeEnv) func() int {
		c, tok, org, dev := re.consoleComputer(t)
		return func() int {
			return post(t, c, re.URL("/orgs/"+org+"/computers/"+dev+"/release"), url.Values{"csrf": {tok}})
		}
	}
}
