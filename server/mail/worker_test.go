package mail_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/mail"
	"github.com/entitle/entitle/server/mail/mailtest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// clock is a test clock moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func sender(t *testing.T, srv *mailtest.Server) *mail.SMTPSender {
	t.Helper()
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: mail.TLSNone,
		From: "Entitle <no-reply@entitle.test>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func worker(t *testing.T, db *store.DB, s mail.Sender, c *clock, cfg mail.WorkerConfig) *mail.Worker {
	t.Helper()
	cfg.Now, cfg.Domain, cfg.Jitter = c.Now, "entitle.test", func() float64 { return 0 }
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	w, err := mail.NewWorker(db, s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func enqueue(t *testing.T, db *store.DB, now time.Time, m mail.Message) string {
	t.Helper()
	var id string
	if err := db.InTx(context.Background(), func(tx *store.Tx) (err error) {
		id, err = mail.Enqueue(context.Background(), tx, now, m)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

func resetMail(key, to, locale string) mail.Message {
	return mail.Message{Key: key, Kind: mail.KindPasswordReset, To: to, Locale: locale,
		Args: map[string]string{"reset_url": "https://entitle.test/password/reset?token=abc", "expires": "2030-03-01T13:00:00Z"}}
}

func TestWorkerSendsInRecipientLanguage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		srv := mailtest.Start(t)
		c := &clock{t: time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)}
		fr := enqueue(t, db, c.Now(), resetMail("r:fr", "ana@example.com", "fr-FR"))
		en := enqueue(t, db, c.Now(), resetMail("r:en", "bob@example.com", "en"))
		// A transaction that fails leaves no mail to send.
		boom := errors.New("boom")
		if err := db.InTx(context.Background(), func(tx *store.Tx) error {
			if _, err := mail.Enqueue(context.Background(), tx, c.Now(), resetMail("r:rolled-back", "eve@example.com", "")); err != nil {
				return err
			}
			return boom
		}); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		w := worker(t, db, sender(t, srv), c, mail.WorkerConfig{})
		if n, err := w.RunOnce(context.Background()); err != nil || n != 2 {
			t.Fatalf("RunOnce = %d, %v; want the 2 committed mails", n, err)
		}
		got := map[string]mailtest.Mail{}
		for _, m := range srv.Wait(2, 10*time.Second) {
			got[m.To[0]] = m
		}
		want := []struct{ to, id, subject, body string }{
			{"ana@example.com", fr, "Réinitialisez votre mot de passe Entitle", "1er mars 2030"},
			{"bob@example.com", en, "Reset your Entitle password", "March 1, 2030"},
		}
		for _, tc := range want {
			m, ok := got[tc.to]
			if !ok {
				t.Fatalf("no mail for %s (got %d mails)", tc.to, len(got))
			}
			if m.Subject != tc.subject {
				t.Errorf("%s: subject %q, want %q", tc.to, m.Subject, tc.subject)
			}
			if m.MessageID != "<"+tc.id+"@entitle.test>" {
				t.Errorf("%s: Message-ID %q, want <%s@entitle.test>", tc.to, m.MessageID, tc.id)
			}
			if raw := string(m.Raw); !strings.Contains(raw, tc.body) || !strings.Contains(raw, "text/html") {
				t.Errorf("%s: body lacks the localized date %q or the HTML part:\n%s", tc.to, tc.body, raw)
			}
		}
		if len(got) != 2 {
			t.Errorf("received %d mails, want 2 (the rolled-back one must not go)", len(got))
		}
		if n, err := w.RunOnce(context.Background()); err != nil || n != 0 {
			t.Fatalf("second RunOnce = %d, %v; want nothing left", n, err)
		}
		page, err := mail.List(context.Background(), db, paging.Request{}, mail.StateSent)
		if err != nil || page.Total != 2 {
			t.Fatalf("sent rows: %+v, %v", page, err)
		}
	})
}

func TestWorkerRelayDownThenUpSendsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		srv := mailtest.Start(t)
		c := &clock{t: time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)}
		w := worker(t, db, sender(t, srv), c, mail.WorkerConfig{BaseBackoff: time.Minute})
		ctx := context.Background()
		first := enqueue(t, db, c.Now(), resetMail("first", "ana@example.com", "en"))
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if len(srv.Wait(1, 5*time.Second)) != 1 {
			t.Fatal("first mail not received")
		}
		srv.Stop() // the relay goes down mid-run
		second := enqueue(t, db, c.Now(), resetMail("second", "bob@example.com", "en"))
		if n, err := w.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("RunOnce while down = %d, %v", n, err)
		}
		page, err := mail.List(ctx, db, paging.Request{}, mail.StatePending)
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != second || page.Items[0].Attempts != 1 || page.Items[0].LastError == "" {
			t.Fatalf("after a failed attempt: %+v, %v", page, err)
		}
		if next := page.Items[0].NextAttempt; !next.Equal(c.Now().Add(time.Minute)) {
			t.Fatalf("next attempt %v, want now + 1 min backoff", next)
		}
		if n, _ := w.RunOnce(ctx); n != 0 {
			t.Fatalf("retried before its backoff ended (%d claimed)", n)
		}
		srv.Restart()
		c.Add(time.Minute)
		if n, err := w.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("RunOnce after the relay is back = %d, %v", n, err)
		}
		c.Add(time.Hour)
		if n, _ := w.RunOnce(ctx); n != 0 {
			t.Fatalf("a sent mail was claimed again")
		}
		mails := srv.Wait(2, 5*time.Second)
		time.Sleep(100 * time.Millisecond)
		mails = srv.Mails()
		if len(mails) != 2 || mails[0].MessageID != "<"+first+"@entitle.test>" || mails[1].MessageID != "<"+second+"@entitle.test>" {
			t.Fatalf("received %d mails, want each once: %+v", len(mails), mails)
		}
	})
}

func TestWorkerGivesUpThenRetry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		srv := mailtest.Start(t)
		srv.Stop()
		c := &clock{t: time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)}
		w := worker(t, db, sender(t, srv), c, mail.WorkerConfig{MaxAttempts: 3, BaseBackoff: time.Second})
		ctx := context.Background()
		id := enqueue(t, db, c.Now(), resetMail("k", "ana@example.com", "fr"))
		for i := range 3 {
			if n, err := w.RunOnce(ctx); err != nil || n != 1 {
				t.Fatalf("attempt %d: %d, %v", i+1, n, err)
			}
			c.Add(time.Hour)
		}
		if n, _ := w.RunOnce(ctx); n != 0 {
			t.Fatal("a failed mail was attempted again")
		}
		page, err := mail.List(ctx, db, paging.Request{}, mail.StateFailed)
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != id || page.Items[0].Attempts != 3 {
			t.Fatalf("failed rows: %+v, %v", page, err)
		}
		var journaled int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'mail.failed' AND subject = ?", id).Scan(&journaled); err != nil || journaled != 1 {
			t.Fatalf("mail.failed journal rows: %d, %v", journaled, err)
		}
		if err := mail.Retry(ctx, db, c.Now(), "admin", "mail_nope"); err == nil {
			t.Fatal("retry of an unknown mail succeeded")
		}
		if err := mail.Retry(ctx, db, c.Now(), "admin", id); err != nil {
			t.Fatal(err)
		}
		if err := mail.Retry(ctx, db, c.Now(), "admin", id); err == nil {
			t.Fatal("retry of a mail that is not failed succeeded")
		}
		srv.Restart()
		if n, err := w.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("after retry: %d, %v", n, err)
		}
		if got := srv.Wait(1, 5*time.Second); len(got) != 1 {
			t.Fatalf("received %d mails after retry", len(got))
		}
	})
}

// TestTwoWorkersSendEachOnce runs two workers on two connections pools to one
// database, as two server instances would, racing for the same rows.
func TestTwoWorkersSendEachOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		dsn := storetest.DSN(t, d)
		ctx := context.Background()
		open := func() *store.DB {
			db, err := store.Open(ctx, dsn, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
		db1, db2 := open(), open()
		srv := mailtest.Start(t)
		c := &clock{t: time.Now()}
		const n = 40
		for i := range n {
			enqueue(t, db1, c.Now(), resetMail(fmt.Sprint("k", i), fmt.Sprintf("u%d@example.com", i), "en"))
		}
		var wg sync.WaitGroup
		for _, db := range []*store.DB{db1, db2} {
			w := worker(t, db, sender(t, srv), c, mail.WorkerConfig{Batch: 3})
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := w.RunOnce(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if got == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		mails := srv.Wait(n, 10*time.Second)
		time.Sleep(100 * time.Millisecond)
		mails = srv.Mails()
		seen := map[string]int{}
		for _, m := range mails {
			seen[m.MessageID]++
		}
		if len(mails) != n || len(seen) != n {
			t.Fatalf("received %d mails with %d distinct Message-IDs, want %d each once", len(mails), len(seen), n)
		}
	})
}

func TestRunStopsWithContext(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	srv := mailtest.Start(t)
	c := &clock{t: time.Now()}
	w := worker(t, db, sender(t, srv), c, mail.WorkerConfig{Poll: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	enqueue(t, db, c.Now(), resetMail("k", "ana@example.com", "en"))
	if got := srv.Wait(1, 5*time.Second); len(got) != 1 {
		t.Fatal("Run did not send the mail")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop with its context")
	}
}

func TestBackoff(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	for _, tc := range []struct {
		attempt int
		jitter  float64
		want    time.Duration
	}{
		{1, 0, 30 * time.Second},
		{2, 0, time.Minute},
		{4, 0, 4 * time.Minute},
		{4, 0.5, 4*time.Minute + 24*time.Second},
		{20, 0, time.Hour},
		{20, 0.99, time.Hour + time.Duration(float64(time.Hour)*0.2*0.99)},
	} {
		w, err := mail.NewWorker(db, refusing{}, mail.WorkerConfig{Jitter: func() float64 { return tc.jitter }})
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Backoff(tc.attempt); got != tc.want {
			t.Errorf("Backoff(%d) with jitter %v = %v, want %v", tc.attempt, tc.jitter, got, tc.want)
		}
	}
}

func TestListPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		now := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
		var want []string
		for i := range 7 {
			want = append(want, enqueue(t, db, now.Add(time.Duration(i%3)*time.Second), resetMail(fmt.Sprint(i), "a@example.com", "")))
		}
		var got []string
		req := paging.Request{Limit: 3}
		for range 5 {
			page, err := mail.List(context.Background(), db, req, "")
			if err != nil || page.Total != 7 {
				t.Fatalf("%+v, %v", page, err)
			}
			for _, r := range page.Items {
				got = append(got, r.ID)
			}
			if page.NextCursor == "" {
				break
			}
			req.Cursor = page.NextCursor
		}
		if len(got) != 7 {
			t.Fatalf("pages gave %d rows, want 7", len(got))
		}
		seen := map[string]bool{}
		for _, id := range got {
			seen[id] = true
		}
		for _, id := range want {
			if !seen[id] {
				t.Errorf("%s missing from the pages", id)
			}
		}
		if _, err := mail.List(context.Background(), db, paging.Request{Cursor: "junk"}, ""); err == nil {
			t.Error("a bad cursor was accepted")
		}
	})
}

// refusing is a sender for tests that never send.
type refusing struct{}

func (refusing) Send(context.Context, mail.Envelope) error { return errors.New("not sending") }

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
