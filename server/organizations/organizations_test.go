package organizations_test

import (
	"testing"

	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/organizations"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func TestCreateMakesCreatorOwner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		alice := f.account("alice@acme.example")
		bob := f.account("bob@other.example")
		org, err := f.Orgs.Create(f.Ctx, "account:"+alice, "Acme", alice)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Orgs.Get(f.Ctx, org.ID)
		if err != nil || got.Name != "Acme" {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		for _, c := range []struct {
			acc  string
			want authz.Role
		}{{alice, authz.RoleOwner}, {bob, authz.RoleNone}} {
			var r authz.Role
			err := f.DB.InTx(f.Ctx, func(tx *store.Tx) error {
				var err error
				r, err = organizations.Role(f.Ctx, tx, org.ID, c.acc)
				return err
			})
			if err != nil || r != c.want {
				t.Errorf("Role(%s) = %q, %v; want %q", c.acc, r, err, c.want)
			}
		}
	})
}
