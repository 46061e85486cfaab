package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// resetLink reads the reset link of the newest mail in the outbox.
func resetLink(t *testing.T, e *apitest.Env) string {
	t.Helper()
	var args string
	if err := e.DB.QueryRow(context.Background(), "SELECT args FROM mail_outbox ORDER BY created_at DESC, id LIMIT 1").Scan(&args); err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(args), &m); err != nil {
		t.Fatal(err)
	}
	return m["reset_url"]
}

func TestPasswordPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		e.Account(t, email, password, 1, time.Now().AddDate(1, 0, 0))
		c := e.Browser(t)
		u, _ := url.Parse(e.URL("/"))
		c.Jar.SetCookies(u, []*http.Cookie{{Name: i18n.CookieName, Value: "fr", Path: "/"}})

		if _, _, body := page(t, c, "GET", e.URL("/login"), nil); !strings.Contains(body, `href="/password/forgot"`) {
			t.Fatal("no forgot-password link on the sign-in page")
		}
		st, _, body := page(t, c, "GET", e.URL("/password/forgot"), nil)
		if st != 200 || !strings.Contains(body, "Mot de passe oublié") || !strings.Contains(body, `lang="fr"`) {
			t.Fatalf("forgot page: %d\n%s", st, body)
		}
		token := csrf(t, body)
		if st, _, _ := page(t, c, "POST", e.URL("/password/forgot"), url.Values{"email": {email}}); st != http.StatusForbidden {
			t.Fatalf("without CSRF: %d", st)
		}
		st, _, unknown := page(t, c, "POST", e.URL("/password/forgot"), url.Values{"csrf": {token}, "email": {"nobody@example.com"}})
		if st != 200 {
			t.Fatalf("unknown email: %d", st)
		}
		st, _, known := page(t, c, "POST", e.URL("/password/forgot"), url.Values{"csrf": {token}, "email": {email}})
		if st != 200 || known != unknown || !strings.Contains(known, "Si un compte a cette adresse") {
			t.Fatalf("the answers differ or are wrong (%d):\n%s\n---\n%s", st, unknown, known)
		}
		var n int
		var locale string
		if err := e.DB.QueryRow(context.Background(), "SELECT count(*), min(locale) FROM mail_outbox").Scan(&n, &locale); err != nil || n != 1 || locale != "fr" {
			t.Fatalf("outbox: %d mails in %q, %v", n, locale, err)
		}

		link := resetLink(t, e)
		st, _, body = page(t, c, "GET", link, nil)
		if st != 200 || !strings.Contains(body, "Choisir un nouveau mot de passe") {
			t.Fatalf("reset page: %d\n%s", st, body)
		}
		resetToken := strings.TrimPrefix(link[strings.Index(link, "token="):], "token=")
		if st, _, _ := page(t, c, "POST", e.URL("/password/reset"), url.Values{"token": {resetToken}, "new_password": {"a brand new password"}}); st != http.StatusForbidden {
			t.Fatalf("reset without CSRF: %d", st)
		}
		form := url.Values{"csrf": {csrf(t, body)}, "token": {resetToken}, "new_password": {"a brand new password"}}
		st, _, body = page(t, c, "POST", e.URL("/password/reset"), form)
		if st != 200 || !strings.Contains(body, "Votre mot de passe est changé") {
			t.Fatalf("reset: %d\n%s", st, body)
		}
		if st, _, body = page(t, c, "POST", e.URL("/password/reset"), form); st != 400 || !strings.Contains(body, "déjà utilisé") {
			t.Fatalf("second use: %d\n%s", st, body)
		}
		if _, err := e.App.Accounts.Login(context.Background(), email, "a brand new password", "127.0.0.1"); err != nil {
			t.Fatalf("sign in with the new password: %v", err)
		}
	})
}
