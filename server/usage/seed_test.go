package usage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/entitle/entitle/server/store"
)

// seed inserts rows by SQL, on the schema of migration 00013 and before,
// so these tests need none of the domains that own those tables.
type seed struct {
	t   testing.TB
	db  *store.DB
	ctx context.Context
	n   int
}

func newSeed(t testing.TB, db *store.DB) *seed {
	s := &seed{t: t, db: db, ctx: context.Background()}
	s.exec("INSERT INTO accounts (id, email, password_hash, created_at) VALUES ('acc', 'a@example.com', 'x', 0)")
	return s
}

func (s *seed) exec(q string, args ...any) {
	s.t.Helper()
	if _, err := s.db.Exec(s.ctx, q, args...); err != nil {
		s.t.Fatalf("%s: %v", q, err)
	}
}

func (s *seed) org(id string) {
	s.t.Helper()
	s.exec("INSERT INTO organizations (id, name, created_at) VALUES (?, ?, 0)", id, "Org "+id)
}

func (s *seed) plan(id, name string) {
	s.t.Helper()
	s.exec(`INSERT INTO plans (id, code, name, features, max_profiles, term_months, seat_price_cents, created_at)
		VALUES (?, ?, ?, 'sign', 5, 12, 1000, 0)`, id, "code-"+id, name)
}

// sub is a subscription row.
type sub struct {
	id, org, plan          string
	seats, assigned        int
	start, end             time.Time
	suspended, noAutoRenew bool
	renewalOrder           string
}

func (s *seed) sub(b sub) {
	s.t.Helper()
	var susp, renewal any
	if b.suspended {
		susp = store.Millis(b.start)
	}
	if b.renewalOrder != "" {
		renewal = b.renewalOrder
	}
	s.exec(`INSERT INTO subscriptions (id, organization_id, plan_id, seats, assigned, term_months, term_start, term_end,
		auto_renew, suspended_at, renewal_order_id, created_at) VALUES (?, ?, ?, ?, ?, 12, ?, ?, ?, ?, ?, ?)`,
		b.id, b.org, b.plan, b.seats, b.assigned, store.Millis(b.start), store.Millis(b.end), !b.noAutoRenew, susp, renewal,
		store.Millis(b.start))
}

// license inserts a license of org (org "" : none) from subscription sub
// ("" : none) and returns its id.
func (s *seed) license(org, sub string, revoked, suspended bool) string {
	s.t.Helper()
	s.n++
	id := fmt.Sprintf("lic%d", s.n)
	var o, sb, rev any
	if org != "" {
		o = org
	}
	if sub != "" {
		sb = sub
	}
	if revoked {
		rev = int64(1)
	}
	s.exec(`INSERT INTO licenses (id, license_key, owner_account_id, plan, features, max_profiles, seats, term_start,
		suspended, created_at, organization_id, subscription_id, revoked_at) VALUES (?, ?, 'acc', 'Pro', 'sign', 5, 100, 0, ?, 0, ?, ?, ?)`,
		id, "key-"+id, suspended, o, sb, rev)
	return id
}

// workspace makes license a workspace's of org.
func (s *seed) workspace(org, license string) {
	s.t.Helper()
	s.exec(`INSERT INTO workspaces (id, owner_key, organization_id, name, name_key, license_id, management_mode, created_at)
		VALUES (?, ?, ?, ?, ?, ?, 'remote', 0)`, "ws-"+license, "org:"+org, org, "W "+license, "w "+license, license)
}

// dev is a device row.
type dev struct {
	license, host          string
	seen                   time.Time
	suspended, deactivated bool
	profiles               string // JSON, "" : NULL
}

func (s *seed) device(d dev) string {
	s.t.Helper()
	s.n++
	id := fmt.Sprintf("dev%d", s.n)
	var susp, deact, prof any
	if d.suspended {
		susp = int64(1)
	}
	if d.deactivated {
		deact = int64(1)
	}
	if d.profiles != "" {
		prof = d.profiles
	}
	s.exec(`INSERT INTO devices (id, license_id, fingerprint, product, hostname, credential_hash, activated_at, last_seen_at,
		deactivated_at, suspended_at, profiles) VALUES (?, ?, ?, 'signer', ?, ?, 0, ?, ?, ?, ?)`,
		id, d.license, "fp-"+id, d.host, "cred-"+id, store.Millis(d.seen), deact, susp, prof)
	return id
}

func (s *seed) order(org, status string) {
	s.t.Helper()
	s.n++
	s.exec("INSERT INTO orders (id, organization_id, status, created_at) VALUES (?, ?, ?, 0)", fmt.Sprintf("ord%d", s.n), org, status)
}
