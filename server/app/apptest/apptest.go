// Package apptest builds every server domain (package app) on a fresh
// database of one dialect with a settable clock, for the domain packages'
// tests.
package apptest

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
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/deviceauth"
	"github.com/entitle/entitle/server/devices"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ratelimit"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/signing"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// Clock is a settable time source for the domains.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at 1 March 2030, 12:00 UTC.
func NewClock() *Clock { return &Clock{now: time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Fixture is every domain on a fresh database of one dialect.
type Fixture struct {
	T     testing.TB
	D     store.Dialect
	DB    *store.DB
	App   *app.App
	Clock *Clock
	Ctx   context.Context

	Accounts   *accounts.Service
	Licenses   *licenses.Service
	Devices    *devices.Service
	DeviceAuth *deviceauth.Service
	Signing    *signing.Service
}

// cheapArgon keeps the real argon2id but at a cost the race detector can
// afford hundreds of times per test run.
func CheapArgon() accounts.Argon2Params {
	return accounts.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}
}

// Issuer is the lease issuer of a Fixture.
const Issuer = "https://licensing.example"

// New builds the domains on a fresh database of dialect d; tweak adjusts
// the configuration first.
func New(t testing.TB, d store.Dialect, tweak ...func(*app.Config)) *Fixture {
	t.Helper()
	c := NewClock()
	cfg := app.Config{Issuer: Issuer, Now: c.Now, PasswordHash: CheapArgon()}
	for _, f := range tweak {
		f(&cfg)
	}
	db := storetest.Open(t, d)
	return Open(t, d, db, c, cfg)
}

// Open builds the domains over db (another instance on the same database
// when db is shared), with cfg.Now set to c.
func Open(t testing.TB, d store.Dialect, db *store.DB, c *Clock, cfg app.Config) *Fixture {
	t.Helper()
	cfg.Now = c.Now
	a, err := app.New(db, cfg)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	t.Cleanup(a.Devices.Close)
	return &Fixture{T: t, D: d, DB: db, App: a, Clock: c, Ctx: context.Background(),
		Accounts: a.Accounts, Licenses: a.Licenses, Devices: a.Devices, DeviceAuth: a.DeviceAuth, Signing: a.Signing}
}

// NoChurnLimit turns the activation limit off.
func NoChurnLimit(c *app.Config) { c.ActivationsPerLicense = ratelimit.Limit{Off: true} }

// FP returns a valid fingerprint derived from a name.
func FP(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

// Facts returns the facts of a linux computer named host.
func Facts(host string) protocol.DeviceFacts {
	return protocol.DeviceFacts{Hostname: host, OS: "linux", Arch: "amd64", AgentVersion: "1.0.0"}
}

// Password is the password of accounts made by Account.
const Password = "correct horse battery"

// Account creates an account with Password.
func (f *Fixture) Account(email string) accounts.Account {
	f.T.Helper()
	a, err := f.Accounts.CreateAccount(f.Ctx, email, Password)
	if err != nil {
		f.T.Fatalf("CreateAccount(%s): %v", email, err)
	}
	return a
}

// License creates a "Pro" license for owner.
func (f *Fixture) License(owner string, seats int, termEnd time.Time) licenses.License {
	f.T.Helper()
	l, err := f.Licenses.CreateLicense(f.Ctx, licenses.LicenseSpec{OwnerEmail: owner, Plan: licenses.Plan{Name: "Pro", Features: []string{"sign", "timestamp"}, MaxProfiles: 5},
		Seats: seats, TermEnd: termEnd})
	if err != nil {
		f.T.Fatalf("CreateLicense: %v", err)
	}
	return l
}

// KeyRequest is an activation by license key.
func KeyRequest(key, fingerprint string) protocol.ActivateRequest {
	return protocol.ActivateRequest{Method: protocol.MethodLicenseKey, LicenseKey: key, Fingerprint: fingerprint, Product: "signer", Device: Facts("host-" + fingerprint[:6])}
}

// ActivateKey activates a computer by license key.
func (f *Fixture) ActivateKey(key, fingerprint string) protocol.ActivateResponse {
	f.T.Helper()
	r, err := f.Devices.Activate(f.Ctx, KeyRequest(key, fingerprint), "192.0.2.1")
	if err != nil {
		f.T.Fatalf("Activate(%s): %v", key, err)
	}
	return r
}

// Count runs a query that returns one number.
func (f *Fixture) Count(query string, args ...any) int {
	f.T.Helper()
	var n int
	if err := f.DB.QueryRow(f.Ctx, query, args...).Scan(&n); err != nil {
		f.T.Fatalf("%s: %v", query, err)
	}
	return n
}

// SeatsUsed reads a license's seat count.
func (f *Fixture) SeatsUsed(licenseID string) int {
	return f.Count("SELECT seats_used FROM licenses WHERE id = ?", licenseID)
}

// Audits counts the journal rows of action.
func (f *Fixture) Audits(action string) int {
	return f.Count("SELECT COUNT(*) FROM audit_events WHERE action = ?", action)
}

// Snapshot summarizes every table's contents that a request could change, so
// a rejected request can be shown to have changed nothing.
func (f *Fixture) Snapshot() string {
	f.T.Helper()
	var parts []string
	for _, table := range []string{"accounts", "sessions", "licenses", "devices", "device_authorizations", "signing_keys", "audit_events", "settings"} {
		parts = append(parts, fmt.Sprintf("%s=%d", table, f.Count("SELECT COUNT(*) FROM "+table)))
	}
	parts = append(parts, fmt.Sprintf("seats=%d", f.Count("SELECT COALESCE(SUM(seats_used), 0) FROM licenses")))
	rows, err := f.DB.Query(f.Ctx, "SELECT id, credential_hash, last_seen_at, COALESCE(deactivated_at, 0) FROM devices")
	if err != nil {
		f.T.Fatal(err)
	}
	defer rows.Close()
	var devs []string
	for rows.Next() {
		var id, h string
		var seen, deact int64
		if err := rows.Scan(&id, &h, &seen, &deact); err != nil {
			f.T.Fatal(err)
		}
		devs = append(devs, fmt.Sprintf("%s/%s/%d/%d", id, h, seen, deact))
	}
	sort.Strings(devs)
	return strings.Join(append(parts, devs...), " ")
}

// WantCode fails unless err is a *fault.Error with the given code.
func WantCode(t testing.TB, err error, code string) *fault.Error {
	t.Helper()
	var e *fault.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want a *fault.Error with code %q", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("error code = %q (%s), want %q", e.Code, e.Message, code)
	}
	return e
}

// GenerateKey returns a new license key.
func GenerateKey() (string, error) { return licensekey.Generate() }

// Concurrently runs fn n times at once and returns the results.
func Concurrently[T any](n int, fn func(i int) (T, error)) ([]T, []error) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	out := make([]T, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return out, errs
}

// VerifyURI is the browser sign-in page of StartAuth.
const VerifyURI = "https://licensing.example/device"

// StartAuth begins a browser sign-in for machine.
func (f *Fixture) StartAuth(machine string) protocol.DeviceAuthorizeResponse {
	f.T.Helper()
	r, err := f.DeviceAuth.StartDeviceAuth(f.Ctx, protocol.DeviceAuthorizeRequest{Fingerprint: FP(machine), Product: "signer", Device: Facts(machine)}, VerifyURI, "192.0.2.1")
	if err != nil {
		f.T.Fatalf("StartDeviceAuth: %v", err)
	}
	return r
}

// OrgLicense issues ownerEmail (an existing account) a license of the
// organization orgID, as an assigned seat of a subscription does: a row of
// licenses with organization_id set, of plan, with the management mode mode.
func OrgLicense(t testing.TB, a *app.App, db *store.DB, orgID, ownerEmail, plan string, seats int, mode string) licenses.License {
	t.Helper()
	ctx := context.Background()
	l, err := a.Licenses.CreateLicense(ctx, licenses.LicenseSpec{OwnerEmail: ownerEmail, Seats: seats, ManagementMode: mode,
		TermStart: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), // no term end: the fixture clock may be any date
		Plan:      licenses.Plan{Name: plan, Features: []string{"sign"}, MaxProfiles: 5}})
	if err != nil {
		t.Fatalf("create organization license: %v", err)
	}
	if _, err := db.Exec(ctx, "UPDATE licenses SET organization_id = ? WHERE id = ?", orgID, l.ID); err != nil {
		t.Fatalf("make the license the organization's: %v", err)
	}
	return l
}
