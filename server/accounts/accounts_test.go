package accounts_test

import (
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/ratelimit"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func TestAccountsAndSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.Account("Owner@Example.com")
		if acc.Email != "owner@example.com" {
			t.Errorf("email stored as %q", acc.Email)
		}
		bad := []struct{ name, email, pw, code string }{
			{"duplicate in other case", "OWNER@example.com", testPassword, protocol.ErrInvalidRequest},
			{"not an email", "owner.example.com", testPassword, protocol.ErrInvalidRequest},
			{"no domain dot", "a@b", testPassword, protocol.ErrInvalidRequest},
			{"short password", "new@example.com", "short", protocol.ErrInvalidRequest},
			{"long password", "new@example.com", strings.Repeat("x", 1025), protocol.ErrInvalidRequest},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				before := f.Snapshot()
				_, err := f.Accounts.CreateAccount(f.Ctx, tc.email, tc.pw)
				wantCode(t, err, tc.code)
				if f.Snapshot() != before {
					t.Error("the database changed")
				}
			})
		}

		got, err := f.Accounts.Login(f.Ctx, " OWNER@example.com ", testPassword, "192.0.2.1")
		if err != nil || got.ID != acc.ID {
			t.Fatalf("Login = %+v, %v", got, err)
		}
		_, errWrong := f.Accounts.Login(f.Ctx, "owner@example.com", "not the password", "192.0.2.1")
		_, errUnknown := f.Accounts.Login(f.Ctx, "nobody@example.com", "not the password", "192.0.2.1")
		if wantCode(t, errWrong, protocol.ErrInvalidCredentials).Message != wantCode(t, errUnknown, protocol.ErrInvalidCredentials).Message {
			t.Error("wrong password and unknown email must read the same")
		}

		tok, err := f.Accounts.NewSession(f.Ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s, err := f.Accounts.SessionAccount(f.Ctx, tok); err != nil || s.ID != acc.ID {
			t.Fatalf("SessionAccount = %+v, %v", s, err)
		}
		if f.Count("SELECT COUNT(*) FROM sessions WHERE token_hash = ?", tok) != 0 {
			t.Error("session token stored in clear")
		}
		f.Clock.Advance(12*time.Hour + time.Second)
		_, err = f.Accounts.SessionAccount(f.Ctx, tok)
		wantCode(t, err, protocol.ErrInvalidCredentials)

		tok2, err := f.Accounts.NewSession(f.Ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if f.Count("SELECT COUNT(*) FROM sessions") != 1 {
			t.Error("expired sessions are not swept")
		}
		if err := f.Accounts.EndSession(f.Ctx, tok2); err != nil {
			t.Fatal(err)
		}
		_, err = f.Accounts.SessionAccount(f.Ctx, tok2)
		wantCode(t, err, protocol.ErrInvalidCredentials)
		_, err = f.Accounts.SessionAccount(f.Ctx, "")
		wantCode(t, err, protocol.ErrInvalidCredentials)
	})
}

func TestLoginRateLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, func(c *Config) {
			c.LoginFailuresPerAccount = ratelimit.Limit{PerMinute: 1, Burst: 3}
			c.LoginFailuresPerIP = ratelimit.Limit{PerMinute: 1, Burst: 5}
		})
		acc := f.Account("owner@example.com")
		f.Account("other@example.com")

		t.Run("successes do not count", func(t *testing.T) {
			for range 6 {
				if _, err := f.Accounts.Login(f.Ctx, "owner@example.com", testPassword, "192.0.2.1"); err != nil {
					t.Fatal(err)
				}
			}
		})
		t.Run("per account", func(t *testing.T) {
			for i := range 3 {
				_, err := f.Accounts.Login(f.Ctx, "owner@example.com", "wrong password", "192.0.2.10")
				wantCode(t, err, protocol.ErrInvalidCredentials)
				_ = i
			}
			// From the guessing address even the right password waits now:
			// the limit is on guessing.
			_, err := f.Accounts.Login(f.Ctx, "owner@example.com", testPassword, "192.0.2.10")
			wantCode(t, err, protocol.ErrRateLimited)
			if n := f.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'login.lockout' AND subject = ?", acc.ID); n != 1 {
				t.Errorf("lockout audit rows = %d, want 1", n)
			}
			// The owner from another address is not locked out (issue 16 item 10).
			if _, err := f.Accounts.Login(f.Ctx, "owner@example.com", testPassword, "192.0.2.11"); err != nil {
				t.Fatalf("owner from another address: %v", err)
			}
			f.Clock.Advance(time.Minute)
			if _, err := f.Accounts.Login(f.Ctx, "owner@example.com", testPassword, "192.0.2.10"); err != nil {
				t.Fatalf("after a minute: %v", err)
			}
		})
		t.Run("per IP", func(t *testing.T) {
			for i := range 5 {
				_, err := f.Accounts.Login(f.Ctx, "user"+string(rune('a'+i))+"@example.com", "wrong password", "198.51.100.1")
				wantCode(t, err, protocol.ErrInvalidCredentials)
			}
			_, err := f.Accounts.Login(f.Ctx, "other@example.com", testPassword, "198.51.100.1")
			wantCode(t, err, protocol.ErrRateLimited)
			if _, err := f.Accounts.Login(f.Ctx, "other@example.com", testPassword, "198.51.100.2"); err != nil {
				t.Fatalf("another address: %v", err)
			}
		})
	})
}
