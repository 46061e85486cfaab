package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/server/mail"
	"github.com/entitle/entitle/server/mail/mailtest"
	"github.com/entitle/entitle/server/servertest"
)

// TestMailSurvivesKill: a mail committed by a server that is killed (kill -9)
// before it could send it goes out, once, from the server started after it.
func TestMailSurvivesKill(t *testing.T) {
	bin := testenv.BuildBinary(t, "./server/cmd/entitle-server")
	for _, db := range servertest.Databases() {
		t.Run(db.Name, func(t *testing.T) {
			dsn := db.DSN(t)
			cli(t, bin, dsn, ownerPass+"\n", "account", "create", "--email", ownerEmail, "--password-stdin")

			// No relay configured: the mail is committed and waits.
			first := startServer(t, bin, "--db", dsn)
			if st := first.Call(t, http.DefaultClient, "POST", accountapi.PathPasswordForgot, "", accountapi.PasswordForgotRequest{Email: ownerEmail}, nil); st != http.StatusAccepted {
				t.Fatalf("forgot: %d", st)
			}
			var page paging.Page[mail.Row]
			cliJSON(t, bin, dsn, "", &page, "mail", "list", "--state", "pending")
			if page.Total != 1 || page.Items[0].Kind != mail.KindPasswordReset || page.Items[0].To != ownerEmail {
				t.Fatalf("outbox before the crash: %+v", page)
			}
			first.Kill()

			relay := mailtest.Start(t)
			second := startServer(t, bin, "--db", dsn, "--smtp-host", relay.Host(), "--smtp-port", fmt.Sprint(relay.Port()),
				"--smtp-tls", "none", "--smtp-from", "Entitle <no-reply@entitle.test>")
			got := relay.Wait(1, 30*time.Second)
			if len(got) != 1 {
				t.Fatalf("received %d mails after the restart, want 1\n%s", len(got), second.Stderr.String())
			}
			if got[0].Subject != "Reset your Entitle password" || got[0].MessageID != "<"+page.Items[0].ID+"@entitle.test>" {
				t.Fatalf("mail: subject %q, Message-ID %q", got[0].Subject, got[0].MessageID)
			}
			// Long enough for another poll of the worker: still one mail.
			time.Sleep(6 * time.Second)
			if n := len(relay.Mails()); n != 1 {
				t.Fatalf("received %d mails, want exactly 1", n)
			}
			if err := second.Stop(); err != nil {
				t.Fatalf("stop: %v\n%s", err, second.Stderr.String())
			}
			cliJSON(t, bin, dsn, "", &page, "mail", "list", "--state", "sent")
			if page.Total != 1 {
				t.Fatalf("sent rows: %+v", page)
			}
			if strings.Contains(second.Stderr.String(), "token=") {
				t.Fatal("a reset link reached the server log")
			}
		})
	}
}
