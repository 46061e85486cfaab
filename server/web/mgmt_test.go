package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestAccountPageShowsRemoteManagement: the owner learns on the account page
// that the computers of a remotely managed license are released only there.
func TestAccountPageShowsRemoteManagement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		e.Account(t, email, password, 1, time.Now().AddDate(1, 0, 0))
		c := e.Browser(t)
		signIn(t, e, c)
		const note = "managed remotely: its computers cannot deactivate themselves"
		if _, _, body := page(t, c, "GET", e.URL("/account"), nil); strings.Contains(body, note) {
			t.Fatalf("an unmanaged license is shown as managed:\n%s", body)
		}
		if _, err := e.App.Licenses.CreateLicense(context.Background(), licenses.LicenseSpec{OwnerEmail: email,
			Plan: licenses.Plan{Name: "Team"}, Seats: 1, ManagementMode: licenses.ManagedRemote}); err != nil {
			t.Fatal(err)
		}
		if st, _, body := page(t, c, "GET", e.URL("/account"), nil); st != 200 || strings.Count(body, note) != 1 {
			t.Fatalf("account page (%d) does not show the remote license's mode once:\n%s", st, body)
		}
	})
}
