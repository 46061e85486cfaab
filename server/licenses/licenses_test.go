package licenses_test

import (
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func TestLicenses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		acc := f.Account("owner@example.com")
		other := f.Account("other@example.com")
		end := f.Clock.Now().AddDate(1, 0, 0)
		lic, err := f.Licenses.CreateLicense(f.Ctx, licenses.LicenseSpec{OwnerEmail: "OWNER@example.com", Plan: licenses.Plan{Name: "Pro", Features: []string{"sign"}, MaxProfiles: 2},
			Seats: 4, TermEnd: end, Subscription: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := licensekey.Normalize(lic.Key); err != nil || lic.OwnerAccountID != acc.ID || lic.OwnerEmail != "owner@example.com" ||
			!lic.TermEnd.Equal(end) || !lic.TermStart.Equal(f.Clock.Now()) || !lic.Subscription || lic.Seats != 4 || lic.SeatsUsed != 0 {
			t.Fatalf("license = %+v (key check %v)", lic, err)
		}
		f.License("other@example.com", 1, time.Time{})
		if f.Audits("license.create") != 2 {
			t.Error("license creation not audited")
		}
		bad := []struct {
			name string
			spec licenses.LicenseSpec
			code string
		}{
			{"unknown owner", licenses.LicenseSpec{OwnerEmail: "x@example.com", Plan: licenses.Plan{Name: "P"}, Seats: 1}, protocol.ErrNotFound},
			{"no seats", licenses.LicenseSpec{OwnerEmail: "owner@example.com", Plan: licenses.Plan{Name: "P"}, Seats: 0}, protocol.ErrInvalidRequest},
			{"no plan name", licenses.LicenseSpec{OwnerEmail: "owner@example.com", Seats: 1}, protocol.ErrInvalidRequest},
			{"bad feature", licenses.LicenseSpec{OwnerEmail: "owner@example.com", Plan: licenses.Plan{Name: "P", Features: []string{"Sign It"}}, Seats: 1}, protocol.ErrInvalidRequest},
			{"negative profiles", licenses.LicenseSpec{OwnerEmail: "owner@example.com", Plan: licenses.Plan{Name: "P", MaxProfiles: -1}, Seats: 1}, protocol.ErrInvalidRequest},
			{"ends before start", licenses.LicenseSpec{OwnerEmail: "owner@example.com", Plan: licenses.Plan{Name: "P"}, Seats: 1, TermEnd: f.Clock.Now().Add(-time.Hour)}, protocol.ErrInvalidRequest},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				before := f.Snapshot()
				_, err := f.Licenses.CreateLicense(f.Ctx, tc.spec)
				wantCode(t, err, tc.code)
				if f.Snapshot() != before {
					t.Error("the database changed")
				}
			})
		}
		all, err := f.Licenses.ListLicenses(f.Ctx, "")
		if err != nil || len(all) != 2 {
			t.Fatalf("ListLicenses(all) = %d, %v", len(all), err)
		}
		mine, err := f.Licenses.ListLicenses(f.Ctx, other.ID)
		if err != nil || len(mine) != 1 || mine[0].OwnerEmail != "other@example.com" {
			t.Fatalf("ListLicenses(other) = %+v, %v", mine, err)
		}
	})
}

func TestSeedDemo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		first, err := f.Licenses.SeedDemo(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		second, err := f.Licenses.SeedDemo(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		if first != second || first.Email != "demo@entitle.local" || first.Seats != 3 || len(first.Password) < 12 {
			t.Fatalf("SeedDemo = %+v then %+v", first, second)
		}
		if n := f.Count("SELECT COUNT(*) FROM licenses"); n != 1 {
			t.Errorf("%d licenses after seeding twice", n)
		}
		lics, err := f.Licenses.ListLicenses(f.Ctx, "")
		if err != nil || len(lics) != 1 {
			t.Fatal(lics, err)
		}
		l := lics[0]
		if l.Plan.Name != "Pro" || strings.Join(l.Plan.Features, ",") != "sign,timestamp" || l.Plan.MaxProfiles != 5 || !l.TermEnd.Equal(f.Clock.Now().AddDate(1, 0, 0)) {
			t.Errorf("demo license = %+v", l)
		}
		if _, err := f.Accounts.Login(f.Ctx, first.Email, first.Password, "192.0.2.1"); err != nil {
			t.Errorf("demo password does not work: %v", err)
		}
		f.ActivateKey(first.LicenseKey, fp("demo"))
	})
}
