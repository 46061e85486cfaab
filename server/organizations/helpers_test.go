package organizations_test

import (
	"testing"

	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/organizations"
	"github.com/entitle/entitle/server/store"
)

type fixture struct {
	*apptest.Fixture
	Orgs *organizations.Service
}

func newFixture(t testing.TB, d store.Dialect, tweak ...func(*app.Config)) *fixture {
	t.Helper()
	f := apptest.New(t, d, tweak...)
	return &fixture{Fixture: f, Orgs: f.App.Organizations}
}

// account makes an account and returns its id.
func (f *fixture) account(email string) string {
	f.T.Helper()
	acc, err := f.Accounts.CreateAccount(f.Ctx, email, apptest.Password)
	if err != nil {
		f.T.Fatalf("create account %s: %v", email, err)
	}
	return acc.ID
}
