package licensing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// clock is a settable time source for the service.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is a service on a fresh database of one dialect.
type fixture struct {
	t     testing.TB
	d     store.Dialect
	db    *store.DB
	svc   *Service
	clock *clock
	ctx   context.Context
}

// cheapArgon keeps the real argon2id but at a cost the race detector can
// afford hundreds of times per test run.
func cheapArgon() Argon2Params { return Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1} }

func newFixture(t testing.TB, d store.Dialect, tweak ...func(*Config)) *fixture {
	t.Helper()
	c := newClock()
	cfg := Config{Issuer: "https://licensing.example", Now: c.Now, PasswordHash: cheapArgon()}
	for _, f := range tweak {
		f(&cfg)
	}
	db := storetest.Open(t, d)
	svc, err := New(db, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &fixture{t: t, d: d, db: db, svc: svc, clock: c, ctx: context.Background()}
}

func noChurnLimit(c *Config) { c.ActivationsPerLicense = RateLimit{Off: true} }

// fp returns a valid fingerprint derived from a name.
func fp(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

func facts(host string) protocol.DeviceFacts {
	return protocol.DeviceFacts{Hostname: host, OS: "linux", Arch: "amd64", AgentVersion: "1.0.0"}
}

const testPassword = "correct horse battery"

func (f *fixture) account(email string) Account {
	f.t.Helper()
	a, err := f.svc.CreateAccount(f.ctx, email, testPassword)
	if err != nil {
		f.t.Fatalf("CreateAccount(%s): %v", email, err)
	}
	return a
}

func (f *fixture) license(owner string, seats int, termEnd time.Time) License {
	f.t.Helper()
	l, err := f.svc.CreateLicense(f.ctx, LicenseSpec{OwnerEmail: owner, Plan: Plan{Name: "Pro", Features: []string{"sign", "timestamp"}, MaxProfiles: 5},
		Seats: seats, TermEnd: termEnd})
	if err != nil {
		f.t.Fatalf("CreateLicense: %v", err)
	}
	return l
}

func keyRequest(key, fingerprint string) protocol.ActivateRequest {
	return protocol.ActivateRequest{Method: protocol.MethodLicenseKey, LicenseKey: key, Fingerprint: fingerprint, Product: "signer", Device: facts("host-" + fingerprint[:6])}
}

func (f *fixture) activateKey(key, fingerprint string) protocol.ActivateResponse {
	f.t.Helper()
	r, err := f.svc.Activate(f.ctx, keyRequest(key, fingerprint), "192.0.2.1")
	if err != nil {
		f.t.Fatalf("Activate(%s): %v", key, err)
	}
	return r
}

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(f.ctx, query, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (f *fixture) seatsUsed(licenseID string) int {
	return f.count("SELECT seats_used FROM licenses WHERE id = ?", licenseID)
}

func (f *fixture) audits(action string) int {
	return f.count("SELECT COUNT(*) FROM audit_events WHERE action = ?", action)
}

// snapshot summarizes every table's contents that a request could change, so
// a rejected request can be shown to have changed nothing.
func (f *fixture) snapshot() string {
	f.t.Helper()
	var parts []string
	for _, table := range []string{"accounts", "sessions", "licenses", "devices", "device_authorizations", "signing_keys", "audit_events", "settings"} {
		parts = append(parts, fmt.Sprintf("%s=%d", table, f.count("SELECT COUNT(*) FROM "+table)))
	}
	parts = append(parts, fmt.Sprintf("seats=%d", f.count("SELECT COALESCE(SUM(seats_used), 0) FROM licenses")))
	rows, err := f.db.Query(f.ctx, "SELECT id, credential_hash, last_seen_at, COALESCE(deactivated_at, 0) FROM devices")
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var devs []string
	for rows.Next() {
		var id, h string
		var seen, deact int64
		if err := rows.Scan(&id, &h, &seen, &deact); err != nil {
			f.t.Fatal(err)
		}
		devs = append(devs, fmt.Sprintf("%s/%s/%d/%d", id, h, seen, deact))
	}
	sort.Strings(devs)
	return strings.Join(append(parts, devs...), " ")
}

// wantCode fails unless err is a *Error with the given code.
func wantCode(t testing.TB, err error, code string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want a *licensing.Error with code %q", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("error code = %q (%s), want %q", e.Code, e.Message, code)
	}
	return e
}

func generateKeyForTest() (string, error) { return licensekey.Generate() }
