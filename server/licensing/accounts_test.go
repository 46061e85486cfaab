package licensing

import (
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func TestAccountsAndSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.account("Owner@Example.com")
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
				before := f.snapshot()
				_, err := f.svc.CreateAccount(f.ctx, tc.email, tc.pw)
				wantCode(t, err, tc.code)
				if f.snapshot() != before {
					t.Error("the database changed")
				}
			})
		}

		got, err := f.svc.Login(f.ctx, " OWNER@example.com ", testPassword, "192.0.2.1")
		if err != nil || got.ID != acc.ID {
			t.Fatalf("Login = %+v, %v", got, err)
		}
		_, errWrong := f.svc.Login(f.ctx, "owner@example.com", "not the password", "192.0.2.1")
		_, errUnknown := f.svc.Login(f.ctx, "nobody@example.com", "not the password", "192.0.2.1")
		if wantCode(t, errWrong, protocol.ErrInvalidCredentials).Message != wantCode(t, errUnknown, protocol.ErrInvalidCredentials).Message {
			t.Error("wrong password and unknown email must read the same")
		}

		tok, err := f.svc.NewSession(f.ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s, err := f.svc.SessionAccount(f.ctx, tok); err != nil || s.ID != acc.ID {
			t.Fatalf("SessionAccount = %+v, %v", s, err)
		}
		if f.count("SELECT COUNT(*) FROM sessions WHERE token_hash = ?", tok) != 0 {
			t.Error("session token stored in clear")
		}
		f.clock.Advance(12*time.Hour + time.Second)
		_, err = f.svc.SessionAccount(f.ctx, tok)
		wantCode(t, err, protocol.ErrInvalidCredentials)

		tok2, err := f.svc.NewSession(f.ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if f.count("SELECT COUNT(*) FROM sessions") != 1 {
			t.Error("expired sessions are not swept")
		}
		if err := f.svc.EndSession(f.ctx, tok2); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.SessionAccount(f.ctx, tok2)
		wantCode(t, err, protocol.ErrInvalidCredentials)
		_, err = f.svc.SessionAccount(f.ctx, "")
		wantCode(t, err, protocol.ErrInvalidCredentials)
	})
}

func TestLoginRateLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, func(c *Config) {
			c.LoginFailuresPerAccount = RateLimit{PerMinute: 1, Burst: 3}
			c.LoginFailuresPerIP = RateLimit{PerMinute: 1, Burst: 5}
		})
		acc := f.account("owner@example.com")
		f.account("other@example.com")

		t.Run("successes do not count", func(t *testing.T) {
			for range 6 {
				if _, err := f.svc.Login(f.ctx, "owner@example.com", testPassword, "192.0.2.1"); err != nil {
					t.Fatal(err)
				}
			}
		})
		t.Run("per account", func(t *testing.T) {
			for i := range 3 {
				_, err := f.svc.Login(f.ctx, "owner@example.com", "wrong password", "192.0.2.10")
				wantCode(t, err, protocol.ErrInvalidCredentials)
				_ = i
			}
			// Even the right password waits now: the limit is on guessing.
			_, err := f.svc.Login(f.ctx, "owner@example.com", testPassword, "192.0.2.11")
			wantCode(t, err, protocol.ErrRateLimited)
			if n := f.count("SELECT COUNT(*) FROM audit_events WHERE action = 'login.lockout' AND subject = ?", acc.ID); n != 1 {
				t.Errorf("lockout audit rows = %d, want 1", n)
			}
			f.clock.Advance(time.Minute)
			if _, err := f.svc.Login(f.ctx, "owner@example.com", testPassword, "192.0.2.11"); err != nil {
				t.Fatalf("after a minute: %v", err)
			}
		})
		t.Run("per IP", func(t *testing.T) {
			for i := range 5 {
				_, err := f.svc.Login(f.ctx, "user"+string(rune('a'+i))+"@example.com", "wrong password", "198.51.100.1")
				wantCode(t, err, protocol.ErrInvalidCredentials)
			}
			_, err := f.svc.Login(f.ctx, "other@example.com", testPassword, "198.51.100.1")
			wantCode(t, err, protocol.ErrRateLimited)
			if _, err := f.svc.Login(f.ctx, "other@example.com", testPassword, "198.51.100.2"); err != nil {
				t.Fatalf("another address: %v", err)
			}
		})
	})
}

func TestLicenses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.account("owner@example.com")
		other := f.account("other@example.com")
		end := f.clock.Now().AddDate(1, 0, 0)
		lic, err := f.svc.CreateLicense(f.ctx, LicenseSpec{OwnerEmail: "OWNER@example.com", Plan: Plan{Name: "Pro", Features: []string{"sign"}, MaxProfiles: 2},
			Seats: 4, TermEnd: end, Subscription: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := licensekey.Normalize(lic.Key); err != nil || lic.OwnerAccountID != acc.ID || lic.OwnerEmail != "owner@example.com" ||
			!lic.TermEnd.Equal(end) || !lic.TermStart.Equal(f.clock.Now()) || !lic.Subscription || lic.Seats != 4 || lic.SeatsUsed != 0 {
			t.Fatalf("license = %+v (key check %v)", lic, err)
		}
		f.license("other@example.com", 1, time.Time{})
		if f.audits("license.create") != 2 {
			t.Error("license creation not audited")
		}
		bad := []struct {
			name string
			spec LicenseSpec
			code string
		}{
			{"unknown owner", LicenseSpec{OwnerEmail: "x@example.com", Plan: Plan{Name: "P"}, Seats: 1}, protocol.ErrNotFound},
			{"no seats", LicenseSpec{OwnerEmail: "owner@example.com", Plan: Plan{Name: "P"}, Seats: 0}, protocol.ErrInvalidRequest},
			{"no plan name", LicenseSpec{OwnerEmail: "owner@example.com", Seats: 1}, protocol.ErrInvalidRequest},
			{"bad feature", LicenseSpec{OwnerEmail: "owner@example.com", Plan: Plan{Name: "P", Features: []string{"Sign It"}}, Seats: 1}, protocol.ErrInvalidRequest},
			{"negative profiles", LicenseSpec{OwnerEmail: "owner@example.com", Plan: Plan{Name: "P", MaxProfiles: -1}, Seats: 1}, protocol.ErrInvalidRequest},
			{"ends before start", LicenseSpec{OwnerEmail: "owner@example.com", Plan: Plan{Name: "P"}, Seats: 1, TermEnd: f.clock.Now().Add(-time.Hour)}, protocol.ErrInvalidRequest},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				before := f.snapshot()
				_, err := f.svc.CreateLicense(f.ctx, tc.spec)
				wantCode(t, err, tc.code)
				if f.snapshot() != before {
					t.Error("the database changed")
				}
			})
		}
		all, err := f.svc.ListLicenses(f.ctx, "")
		if err != nil || len(all) != 2 {
			t.Fatalf("ListLicenses(all) = %d, %v", len(all), err)
		}
		mine, err := f.svc.ListLicenses(f.ctx, other.ID)
		if err != nil || len(mine) != 1 || mine[0].OwnerEmail != "other@example.com" {
			t.Fatalf("ListLicenses(other) = %+v, %v", mine, err)
		}
	})
}

func TestSeedDemo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		first, err := f.svc.SeedDemo(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		second, err := f.svc.SeedDemo(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if first != second || first.Email != "demo@entitle.local" || first.Seats != 3 || len(first.Password) < 12 {
			t.Fatalf("SeedDemo = %+v then %+v", first, second)
		}
		if n := f.count("SELECT COUNT(*) FROM licenses"); n != 1 {
			t.Errorf("%d licenses after seeding twice", n)
		}
		lics, err := f.svc.ListLicenses(f.ctx, "")
		if err != nil || len(lics) != 1 {
			t.Fatal(lics, err)
		}
		l := lics[0]
		if l.Plan.Name != "Pro" || strings.Join(l.Plan.Features, ",") != "sign,timestamp" || l.Plan.MaxProfiles != 5 || !l.TermEnd.Equal(f.clock.Now().AddDate(1, 0, 0)) {
			t.Errorf("demo license = %+v", l)
		}
		if _, err := f.svc.Login(f.ctx, first.Email, first.Password, "192.0.2.1"); err != nil {
			t.Errorf("demo password does not work: %v", err)
		}
		f.activateKey(first.LicenseKey, fp("demo"))
	})
}

func TestPasswordHash(t *testing.T) {
	h, err := hashPassword("a fine password", Argon2Params{}.orDefault())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash = %q", h)
	}
	tests := []struct {
		name, hash, pw string
		ok, err        bool
	}{
		{"right", h, "a fine password", true, false},
		{"wrong", h, "a fine passworD", false, false},
		{"not PHC", "plain", "x", false, true},
		{"argon2i", strings.Replace(h, "argon2id", "argon2i", 1), "a fine password", false, true},
		{"absurd memory", strings.Replace(h, "m=19456", "m=99999999", 1), "a fine password", false, true},
		{"bad salt", h[:strings.LastIndex(h, "$")-2] + "!!" + h[strings.LastIndex(h, "$"):], "a fine password", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := verifyPassword(tc.hash, tc.pw)
			if ok != tc.ok || (err != nil) != tc.err {
				t.Fatalf("verifyPassword = %v, %v; want %v, error %v", ok, err, tc.ok, tc.err)
			}
		})
	}
}
