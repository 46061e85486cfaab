package accounts_test

import (
	"testing"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/store"
)

// fixture is every domain on a fresh database (package apptest).
type fixture struct{ *apptest.Fixture }

// Config configures the domains of a fixture.
type Config = app.Config

func newFixture(t testing.TB, d store.Dialect, tweak ...func(*Config)) *fixture {
	t.Helper()
	return &fixture{apptest.New(t, d, tweak...)}
}

const (
	testPassword = apptest.Password
	testIP       = "192.0.2.1"
)

func fp(name string) string                  { return apptest.FP(name) }
func facts(host string) protocol.DeviceFacts { return apptest.Facts(host) }
func keyRequest(key, fingerprint string) protocol.ActivateRequest {
	return apptest.KeyRequest(key, fingerprint)
}
func noChurnLimit(c *Config) { apptest.NoChurnLimit(c) }

func wantCode(t testing.TB, err error, code string) *fault.Error {
	t.Helper()
	return apptest.WantCode(t, err, code)
}

func concurrently[T any](n int, fn func(i int) (T, error)) ([]T, []error) {
	return apptest.Concurrently(n, fn)
}
