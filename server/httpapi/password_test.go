package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/mail"
	"github.com/entitle/entitle/server/mail/mailtest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func forgot(t *testing.T, e *apitest.Env, email, lang string) int {
	t.Helper()
	body, _ := json.Marshal(accountapi.PasswordForgotRequest{Email: email})
	req, _ := http.NewRequest("POST", e.URL(accountapi.PathPasswordForgot), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Language", lang)
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func outboxCount(t *testing.T, e *apitest.Env) int {
	t.Helper()
	var n int
	if err := e.DB.QueryRow(context.Background(), "SELECT count(*) FROM mail_outbox").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var tokenInMail = regexp.MustCompile(`/password/reset\?token=([A-Za-z0-9_-]+)`)

func TestPasswordReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		ctx := context.Background()
		e.Account(t, "owner@example.com", "correct horse battery", 1, time.Now().AddDate(1, 0, 0))
		var sess accountapi.SessionResponse
		if st := e.Do(t, "POST", httpapi.PathSessions, "", accountapi.SessionRequest{Email: "owner@example.com", Password: "correct horse battery"}, &sess); st != http.StatusCreated {
			t.Fatalf("sign in: %d", st)
		}

		// No account enumeration: an unknown email is answered the same, and nothing is mailed.
		if st := forgot(t, e, "nobody@example.com", "fr"); st != http.StatusAccepted {
			t.Fatalf("unknown email: %d", st)
		}
		if st := forgot(t, e, "not an address", "fr"); st != http.StatusAccepted {
			t.Fatalf("malformed email: %d", st)
		}
		if n := outboxCount(t, e); n != 0 {
			t.Fatalf("%d mails for unknown addresses", n)
		}
		if st := forgot(t, e, "Owner@Example.com", "fr-CA, en;q=0.5"); st != http.StatusAccepted {
			t.Fatalf("known email: %d", st)
		}
		var pe protocol.Error
		if st := e.Do(t, "POST", accountapi.PathPasswordForgot, "", accountapi.PasswordForgotRequest{}, &pe); st != 400 {
			t.Fatalf("empty email: %d", st)
		}

		// The worker sends it to a real SMTP server, in French.
		srv := mailtest.Start(t)
		sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: mail.TLSNone, From: "no-reply@entitle.test"})
		if err != nil {
			t.Fatal(err)
		}
		w, err := mail.NewWorker(e.DB, sender, mail.WorkerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := w.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("worker: %d, %v", n, err)
		}
		mails := srv.Wait(1, 5*time.Second)
		if len(mails) != 1 || mails[0].Subject != "Réinitialisez votre mot de passe Entitle" || mails[0].To[0] != "owner@example.com" {
			t.Fatalf("reset mail: %+v", mails)
		}
		body, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(mails[0].Raw)))
		m := tokenInMail.FindSubmatch(body)
		if m == nil {
			t.Fatalf("no reset link in the mail:\n%s", body)
		}
		token := string(m[1])
		var stored int
		if err := e.DB.QueryRow(ctx, "SELECT count(*) FROM password_resets WHERE token_hash = ?", token).Scan(&stored); err != nil || stored != 0 {
			t.Fatalf("the raw token is stored (%d, %v)", stored, err)
		}

		if st := e.Do(t, "POST", accountapi.PathPasswordReset, "", accountapi.PasswordResetRequest{Token: "wrong-token-value", NewPassword: "a brand new password"}, &pe); st != 400 || pe.Code != protocol.ErrExpiredToken {
			t.Fatalf("wrong token: %d %+v", st, pe)
		}
		if st := e.Do(t, "POST", accountapi.PathPasswordReset, "", accountapi.PasswordResetRequest{Token: token, NewPassword: "short"}, &pe); st != 400 {
			t.Fatalf("short password: %d", st)
		}
		if st := e.Do(t, "POST", accountapi.PathPasswordReset, "", accountapi.PasswordResetRequest{Token: token, NewPassword: "a brand new password"}, nil); st != http.StatusNoContent {
			t.Fatalf("reset: %d", st)
		}
		// Single use; the old session is revoked; the new password signs in, the old one not.
		if st := e.Do(t, "POST", accountapi.PathPasswordReset, "", accountapi.PasswordResetRequest{Token: token, NewPassword: "yet another password"}, &pe); st != 400 || pe.Code != protocol.ErrExpiredToken {
			t.Fatalf("second use: %d %+v", st, pe)
		}
		if st := e.Do(t, "GET", httpapi.PathAccountLicenses, sess.Token, nil, &pe); st != 401 {
			t.Fatalf("old session after reset: %d", st)
		}
		if st := e.Do(t, "POST", httpapi.PathSessions, "", accountapi.SessionRequest{Email: "owner@example.com", Password: "correct horse battery"}, &pe); st != 401 {
			t.Fatalf("old password after reset: %d", st)
		}
		if st := e.Do(t, "POST", httpapi.PathSessions, "", accountapi.SessionRequest{Email: "owner@example.com", Password: "a brand new password"}, &sess); st != http.StatusCreated {
			t.Fatalf("new password: %d", st)
		}
		var journaled int
		if err := e.DB.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action IN ('password.forgot', 'password.reset')").Scan(&journaled); err != nil || journaled != 2 {
			t.Fatalf("journal rows: %d, %v", journaled, err)
		}

		// Per-email limit: three requests an hour, then 429 (still no hint of existence).
		codes := []int{}
		for range 3 {
			codes = append(codes, forgot(t, e, "owner@example.com", "en"))
		}
		if codes[0] != 202 || codes[1] != 202 || codes[2] != http.StatusTooManyRequests {
			t.Fatalf("per-email limit: %v", codes)
		}
	})
}
