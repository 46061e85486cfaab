// Package apitest runs the complete HTTP handler (API, pages, middleware) in
// process over the real server domains on a real database, for the tests
// of packages httpapi and web.
package apitest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/server/servertest"

	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/httpapi"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/passwordreset"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
	"github.com/entitle/entitle/server/web"
)

// Env is one running server.
type Env struct {
	App    *app.App
	DB     *store.DB
	API    *httpapi.Server
	Server *httptest.Server
	Logs   *testenv.Buffer // everything the server logged
}

// Start runs the server over a fresh database of dialect d.
func Start(t testing.TB, d store.Dialect) *Env { t.Helper(); return StartWith(t, d, nil) }

// StartWith is Start with tweak adjusting the domains' configuration first
// (when non-nil: a test DNS resolver, a cheaper password hash...).
func StartWith(t testing.TB, d store.Dialect, tweak func(*app.Config)) *Env {
	t.Helper()
	db := storetest.Open(t, d)
	logs := &testenv.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := app.Config{
		Issuer: "apitest", OfflineGrace: 24 * time.Hour, CheckinInterval: time.Hour, Now: time.Now, Logger: logger,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	a, err := app.New(db, cfg)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	t.Cleanup(a.Devices.Close)
	srv := httptest.NewUnstartedServer(nil)
	public := "http://" + srv.Listener.Addr().String()
	resets, err := passwordreset.New(db, a.Accounts, passwordreset.Config{PublicURL: public, Now: time.Now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := web.New(web.Domains{Accounts: a.Accounts, Licenses: a.Licenses, Devices: a.Devices, DeviceAuth: a.DeviceAuth, Passwords: resets, Nudge: a.Push,
		Journal: a.Journal, Organizations: a.Organizations, Workspaces: a.Workspaces,
		OrgDevices: a.Devices, Commands: a.Commands, Usage: a.Usage,
		Orders: a.Orders, Plans: a.Plans, Subscriptions: a.Subscriptions}, web.Config{PublicURL: public, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	doms := httpapi.DomainsOf(a)
	doms.Passwords = resets
	api, err := httpapi.New(doms, httpapi.Config{
		PublicURL: public, Logger: logger, Pages: pages,
		Ping: func(ctx context.Context) error {
			var one int
			return db.QueryRow(ctx, "SELECT 1").Scan(&one)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = api.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	// The domains' background work (the push hub, which owns the streams;
	// command expiry) runs as under serve, and stops before the server.
	bg, stop := context.WithCancel(context.Background())
	bgDone := make(chan struct{})
	go func() { defer close(bgDone); a.Background(bg, logger) }()
	t.Cleanup(func() { stop(); <-bgDone })
	return &Env{App: a, DB: db, API: api, Server: srv, Logs: logs}
}

// URL returns the server's URL for path.
func (e *Env) URL(path string) string { return e.Server.URL + path }

// Do sends a request with an optional JSON body and bearer token and decodes
// a JSON answer into out (when non-nil). It returns the status.
func (e *Env) Do(t testing.TB, method, path, bearer string, body, out any) int {
	t.Helper()
	return servertest.CallURL(t, e.Server.Client(), method, e.URL(path), bearer, body, out)
}

// Browser returns a client with a cookie jar that does not follow
// redirects, so tests see each step a browser would take.
func (e *Env) Browser(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := e.Server.Client()
	return &http.Client{Transport: c.Transport, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// Fingerprint returns a valid, distinct device fingerprint for a name.
func Fingerprint(name string) string { return servertest.Fingerprint(name) }

// Account creates an account and a license for it.
func (e *Env) Account(t testing.TB, email, password string, seats int, termEnd time.Time) licenses.License {
	t.Helper()
	ctx := context.Background()
	if _, err := e.App.Accounts.CreateAccount(ctx, email, password); err != nil {
		t.Fatalf("create account: %v", err)
	}
	l, err := e.App.Licenses.CreateLicense(ctx, licenses.LicenseSpec{
		OwnerEmail: email, Seats: seats, TermStart: time.Now().Add(-24 * time.Hour), TermEnd: termEnd,
		Plan: licenses.Plan{Name: "pro", Features: []string{"sign"}, MaxProfiles: 5},
	})
	if err != nil {
		t.Fatalf("create license: %v", err)
	}
	return l
}
