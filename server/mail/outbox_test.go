package mail_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/entitle/entitle/server/mail"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func TestEnqueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		ctx := context.Background()
		now := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
		msg := mail.Message{Key: "invitation:inv_1", Kind: mail.KindInvitation, To: "ana@example.com", Locale: "fr",
			Args: map[string]string{"organization": "Acme"}}
		var first, second string
		if err := db.InTx(ctx, func(tx *store.Tx) (err error) {
			first, err = mail.Enqueue(ctx, tx, now, msg)
			return err
		}); err != nil || first == "" {
			t.Fatalf("first enqueue: %q, %v", first, err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) (err error) {
			second, err = mail.Enqueue(ctx, tx, now, msg)
			return err
		}); err != nil || second != "" {
			t.Fatalf("same key again: %q, %v (want nothing enqueued)", second, err)
		}
		// A transaction that rolls back leaves no mail.
		boom := errors.New("boom")
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := mail.Enqueue(ctx, tx, now, mail.Message{Key: "k2", Kind: mail.KindPasswordReset, To: "b@example.com"}); err != nil {
				return err
			}
			return boom
		}); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		var n int
		var locale, args string
		if err := db.QueryRow(ctx, "SELECT count(*), min(locale), min(args) FROM mail_outbox").Scan(&n, &locale, &args); err != nil {
			t.Fatal(err)
		}
		if n != 1 || locale != "fr" || args != `{"organization":"Acme"}` {
			t.Fatalf("outbox holds %d rows (%q, %q), want the one committed", n, locale, args)
		}
	})
}

func TestMessageValidate(t *testing.T) {
	ok := mail.Message{Key: "k", Kind: mail.KindInvoice, To: "a@example.com"}
	tests := []struct {
		name string
		edit func(*mail.Message)
		ok   bool
	}{
		{"valid", func(*mail.Message) {}, true},
		{"no key", func(m *mail.Message) { m.Key = "" }, false},
		{"no kind", func(m *mail.Message) { m.Kind = "" }, false},
		{"two recipients", func(m *mail.Message) { m.To = "a@example.com, b@example.com" }, false},
		{"display name", func(m *mail.Message) { m.To = "Ana <a@example.com>" }, false},
		{"header injection", func(m *mail.Message) { m.To = "a@example.com\r\nBcc: x@example.com" }, false},
	}
	for _, tc := range tests {
		m := ok
		tc.edit(&m)
		if err := m.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}
