package licenses_test

import (
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func (f *fixture) managedLicense(owner, mode string, seats int) licenses.License {
	f.T.Helper()
	l, err := f.Licenses.CreateLicense(f.Ctx, licenses.LicenseSpec{OwnerEmail: owner, Plan: licenses.Plan{Name: "Team", Features: []string{"sign"}},
		Seats: seats, ManagementMode: mode})
	if err != nil {
		f.T.Fatalf("CreateLicense(mode %q): %v", mode, err)
	}
	return l
}

func TestLicenseManagementMode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		f.Account("owner@example.com")
		modes := map[string]string{} // license id: mode
		for _, mode := range licenses.ManagementModes() {
			l := f.managedLicense("owner@example.com", mode, 1)
			if l.ManagementMode != mode {
				t.Errorf("CreateLicense(mode %q) = mode %q", mode, l.ManagementMode)
			}
			modes[l.ID] = mode
		}
		if n := f.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'license.create' AND detail LIKE '%\"management_mode\":\"remote\"%'"); n != 1 {
			t.Errorf("license.create audits naming mode remote = %d, want 1", n)
		}
		ls, err := f.Licenses.ListLicenses(f.Ctx, "")
		if err != nil || len(ls) != len(licenses.ManagementModes()) {
			t.Fatalf("ListLicenses = %d, %v", len(ls), err)
		}
		for _, l := range ls {
			if l.ManagementMode != modes[l.ID] {
				t.Errorf("ListLicenses: license %s mode = %q, want %q", l.ID, l.ManagementMode, modes[l.ID])
			}
		}
		for _, bad := range []string{"Remote", "admin", " remote", "local-remote"} {
			before := f.Snapshot()
			_, err := f.Licenses.CreateLicense(f.Ctx, licenses.LicenseSpec{OwnerEmail: "owner@example.com", Plan: licenses.Plan{Name: "P"}, Seats: 1, ManagementMode: bad})
			if e := wantCode(t, err, protocol.ErrInvalidRequest); !strings.Contains(e.Message, "management mode") {
				t.Errorf("mode %q: message %q does not name the management mode", bad, e.Message)
			}
			if f.Snapshot() != before {
				t.Errorf("mode %q: the refused license changed the database", bad)
			}
		}
		// The database refuses an unknown mode too, whoever writes it.
		if _, err := f.DB.Exec(f.Ctx, "UPDATE licenses SET management_mode = 'bogus'"); err == nil {
			t.Error("the database accepted management_mode 'bogus'")
		}
	})
}
