package httpapi_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/entitle/entitle/pkg/accountapi"
)

// The password routes' cases of TestEveryStateChangingRouteJournals.
func init() {
	journalCases["POST "+accountapi.PathPasswordForgot] = func(t *testing.T, re *routeEnv) func() int {
		email, _, _ := re.person(t)
		return func() int {
			return re.call(t, "POST", accountapi.PathPasswordForgot, "", accountapi.PasswordForgotRequest{Email: email}, nil)
		}
	}
	journalCases["POST "+accountapi.PathPasswordReset] = func(t *testing.T, re *routeEnv) func() int {
		tok := re.resetToken(t)
		return func() int {
			return re.call(t, "POST", accountapi.PathPasswordReset, "", accountapi.PasswordResetRequest{Token: tok, NewPassword: "a brand new password"}, nil)
		}
	}
	journalCases["POST /password/forgot"] = func(t *testing.T, re *routeEnv) func() int {
		email, _, _ := re.person(t)
		c := re.browser(t)
		csrf := form(t, c, re.URL("/password/forgot"))
		return func() int {
			return post(t, c, re.URL("/password/forgot"), url.Values{"csrf": {csrf}, "email": {email}})
		}
	}
	journalCases["POST /password/reset"] = func(t *testing.T, re *routeEnv) func() int {
		tok := re.resetToken(t)
		c := re.browser(t)
		csrf := form(t, c, re.URL("/password/reset?token="+url.QueryEscape(tok)))
		return func() int {
			return post(t, c, re.URL("/password/reset"), url.Values{"csrf": {csrf}, "token": {tok}, "new_password": {"a brand new password"}})
		}
	}
}

// resetToken asks a reset for a fresh person and returns the token mailed.
func (re *routeEnv) resetToken(t *testing.T) string {
	t.Helper()
	email, _, _ := re.person(t)
	if st := re.call(t, "POST", accountapi.PathPasswordForgot, "", accountapi.PasswordForgotRequest{Email: email}, nil); st != 202 {
		t.Fatalf("forgot: %d", st)
	}
	var args string
	if err := re.DB.QueryRow(context.Background(), "SELECT args FROM mail_outbox WHERE recipient = ?", email).Scan(&args); err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(args), &m); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(m["reset_url"])
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}
