package passwordreset_test

import (
	"context"
	"encoding/json"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/passwordreset"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

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

func setup(t *testing.T, d store.Dialect) (*store.DB, *passwordreset.Service, *clock) {
	t.Helper()
	db := storetest.Open(t, d)
	c := &clock{t: time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)}
	accts, err := accounts.New(db, accounts.Config{Now: c.Now, PasswordHash: accounts.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := accts.CreateAccount(context.Background(), "ana@example.com", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	s, err := passwordreset.New(db, accts, passwordreset.Config{PublicURL: "https://licensing.example.com/", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return db, s, c
}

func lastToken(t *testing.T, db *store.DB) string {
	t.Helper()
	var args string
	if err := db.QueryRow(context.Background(), "SELECT args FROM mail_outbox ORDER BY created_at DESC, id LIMIT 1").Scan(&args); err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(args), &m); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(m["reset_url"])
	if err != nil || u.Host != "licensing.example.com" || u.Path != passwordreset.PathResetPage || m["expires"] != "2030-03-01T13:00:00Z" {
		t.Fatalf("mail args %v", m)
	}
	return u.Query().Get("token")
}

func TestTokenExpiresAfterAnHour(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		db, s, c := setup(t, d)
		ctx := context.Background()
		if err := s.Forgot(ctx, "ana@example.com", "192.0.2.1", "fr"); err != nil {
			t.Fatal(err)
		}
		tok := lastToken(t, db)
		c.Add(time.Hour)
		if err := s.Reset(ctx, tok, "a brand new password"); fault.CodeOf(err) != protocol.ErrExpiredToken {
			t.Fatalf("reset at expiry: %v", err)
		}
		c.Add(-time.Minute)
		if err := s.Reset(ctx, tok, "a brand new password"); err != nil {
			t.Fatalf("reset a minute before expiry: %v", err)
		}
	})
}

func TestRequestsLimitedPerIP(t *testing.T) {
	_, s, _ := setup(t, store.SQLite)
	ctx := context.Background()
	for i := range 10 {
		if err := s.Forgot(ctx, "x"+string(rune('a'+i))+"@example.com", "192.0.2.9", ""); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if err := s.Forgot(ctx, "other@example.com", "192.0.2.9", ""); fault.CodeOf(err) != protocol.ErrRateLimited {
		t.Fatalf("11th request from one IP: %v", err)
	}
	if err := s.Forgot(ctx, "other@example.com", "192.0.2.10", ""); err != nil {
		t.Fatalf("another IP: %v", err)
	}
}
