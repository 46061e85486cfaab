package workspaces_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
	"github.com/entitle/entitle/server/workspaces"
)

func setup(t *testing.T, d store.Dialect) (*apptest.Fixture, workspaces.Owner, licenses.License, licenses.License) {
	f := apptest.New(t, d)
	acct := f.Account("owner@example.com")
	f.Account("other@example.com")
	return f, workspaces.Owner{AccountID: acct.ID}, f.License("owner@example.com", 3, time.Time{}), f.License("owner@example.com", 1, time.Time{})
}

func TestWorkspaceLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f, owner, lic, other := setup(t, d)
		ws := f.App.Workspaces
		w, err := ws.Create(f.Ctx, owner, accountapi.WorkspaceRequest{Name: "  Comptabilité  (Lyon) ", LicenseID: lic.ID, ManagementMode: accountapi.ModeRemote})
		if err != nil {
			t.Fatal(err)
		}
		if w.Name != "Comptabilité (Lyon)" || w.ManagementMode != "remote" || w.License.ManagementMode != "remote" || w.License.Seats != 3 {
			t.Fatalf("created %+v", w)
		}
		// The mode reaches leases: the license carries it.
		if n := f.Count("SELECT count(*) FROM licenses WHERE id = ? AND management_mode = 'remote'", lic.ID); n != 1 {
			t.Fatal("mode not written through to the license")
		}
		tests := []struct {
			name string
			req  accountapi.WorkspaceRequest
			code string
		}{
			{"same name, other case", accountapi.WorkspaceRequest{Name: "COMPTABILITÉ (LYON)", LicenseID: other.ID}, protocol.ErrWorkspaceNameTaken},
			{"license held", accountapi.WorkspaceRequest{Name: "Autre", LicenseID: lic.ID}, protocol.ErrLicenseInWorkspace},
			{"someone else's license", accountapi.WorkspaceRequest{Name: "X", LicenseID: "lic_nope"}, protocol.ErrNotFound},
			{"bad name", accountapi.WorkspaceRequest{Name: "a<b>", LicenseID: other.ID}, protocol.ErrInvalidRequest},
			{"bad mode", accountapi.WorkspaceRequest{Name: "Y", LicenseID: other.ID, ManagementMode: "both"}, protocol.ErrInvalidRequest},
		}
		for _, tc := range tests {
			before := f.Snapshot()
			_, err := ws.Create(f.Ctx, owner, tc.req)
			apptest.WantCode(t, err, tc.code)
			if f.Snapshot() != before {
				t.Fatalf("%s: a refusal changed the database", tc.name)
			}
		}
		if name, err := ws.Suggest(f.Ctx, owner, "Comptabilité (Lyon)"); err != nil || name != "Comptabilité (Lyon) (2)" {
			t.Fatalf("suggest: %q, %v", name, err)
		}
		// Reassign: the old license goes back with its former mode.
		w, err = ws.Update(f.Ctx, owner, w.ID, accountapi.WorkspaceRequest{LicenseID: other.ID, ManagementMode: accountapi.ModeLocal})
		if err != nil || w.License.ID != other.ID || w.ManagementMode != "local" {
			t.Fatalf("reassign: %+v, %v", w, err)
		}
		if f.Count("SELECT count(*) FROM licenses WHERE id = ? AND management_mode = ''", lic.ID) != 1 ||
			f.Count("SELECT count(*) FROM licenses WHERE id = ? AND management_mode = 'local'", other.ID) != 1 {
			t.Fatal("reassignment did not move the mode")
		}
		page, err := ws.List(f.Ctx, owner, paging.Request{})
		if err != nil || page.Total != 1 || len(page.Items) != 1 {
			t.Fatalf("list: %+v, %v", page, err)
		}
		if _, err := ws.Get(f.Ctx, workspaces.Owner{AccountID: "acc_other"}, w.ID); err == nil {
			t.Fatal("another owner read the workspace")
		}
		if err := ws.Delete(f.Ctx, owner, w.ID); err != nil {
			t.Fatal(err)
		}
		if f.Count("SELECT count(*) FROM licenses WHERE id = ? AND management_mode = ''", other.ID) != 1 {
			t.Fatal("deleting did not give the license back")
		}
		for _, a := range []string{"workspace.create", "workspace.update", "workspace.delete"} {
			if f.Audits(a) != 1 {
				t.Fatalf("%s journaled %d times", a, f.Audits(a))
			}
		}
	})
}

func TestEnrollmentTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f, owner, lic, _ := setup(t, d)
		ws := f.App.Workspaces
		w, err := ws.Create(f.Ctx, owner, accountapi.WorkspaceRequest{Name: "Déploiement", LicenseID: lic.ID})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ws.CreateToken(f.Ctx, owner, w.ID, accountapi.EnrollmentTokenRequest{MaxUses: 2, TTLSeconds: 3600})
		if err != nil || !protocol.ValidEnrollmentToken(tok.Secret) {
			t.Fatalf("token %+v, %v", tok, err)
		}
		enroll := func(name string) (protocol.ActivateResponse, error) {
			return f.Devices.Activate(f.Ctx, protocol.ActivateRequest{Method: protocol.MethodEnrollment, EnrollmentToken: tok.Secret,
				Fingerprint: apptest.FP(name), Product: "signer", Device: apptest.Facts(name)}, "192.0.2.1")
		}
		if r, err := enroll("pc1"); err != nil || r.SeatsUsed != 1 {
			t.Fatalf("first enrollment: %+v, %v", r, err)
		}
		if _, err := enroll("pc2"); err != nil {
			t.Fatal(err)
		}
		_, err = enroll("pc3") // used up
		apptest.WantCode(t, err, protocol.ErrEnrollmentRefused)
		tok2, _ := ws.CreateToken(f.Ctx, owner, w.ID, accountapi.EnrollmentTokenRequest{TTLSeconds: 60})
		if err := ws.RevokeToken(f.Ctx, owner, w.ID, tok2.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.Devices.Activate(f.Ctx, protocol.ActivateRequest{Method: protocol.MethodEnrollment, EnrollmentToken: tok2.Secret,
			Fingerprint: apptest.FP("pc4"), Product: "signer", Device: apptest.Facts("pc4")}, "192.0.2.1")
		apptest.WantCode(t, err, protocol.ErrEnrollmentRefused)
		tok3, _ := ws.CreateToken(f.Ctx, owner, w.ID, accountapi.EnrollmentTokenRequest{TTLSeconds: 60})
		f.Clock.Advance(2 * time.Minute)
		_, err = f.Devices.Activate(f.Ctx, protocol.ActivateRequest{Method: protocol.MethodEnrollment, EnrollmentToken: tok3.Secret,
			Fingerprint: apptest.FP("pc5"), Product: "signer", Device: apptest.Facts("pc5")}, "192.0.2.1")
		apptest.WantCode(t, err, protocol.ErrEnrollmentRefused)
		list, err := ws.Tokens(f.Ctx, owner, w.ID)
		if err != nil || len(list) != 3 {
			t.Fatalf("tokens: %+v, %v", list, err)
		}
	})
}

// Concurrent enrollments racing for a token's last use: exactly one wins.
func TestEnrollmentTokenRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f, owner, lic, _ := setup(t, d)
		w, _ := f.App.Workspaces.Create(f.Ctx, owner, accountapi.WorkspaceRequest{Name: "Course", LicenseID: lic.ID})
		tok, _ := f.App.Workspaces.CreateToken(f.Ctx, owner, w.ID, accountapi.EnrollmentTokenRequest{MaxUses: 1})
		var won atomic.Int32
		apptest.Concurrently(20, func(i int) (protocol.ActivateResponse, error) {
			r, err := f.Devices.Activate(f.Ctx, protocol.ActivateRequest{Method: protocol.MethodEnrollment, EnrollmentToken: tok.Secret,
				Fingerprint: apptest.FP(string(rune('a' + i))), Product: "signer", Device: apptest.Facts("pc")}, "192.0.2.1")
			if err == nil {
				won.Add(1)
			}
			return r, err
		})
		if won.Load() != 1 || f.SeatsUsed(lic.ID) != 1 {
			t.Fatalf("%d enrollments won, %d seats used", won.Load(), f.SeatsUsed(lic.ID))
		}
	})
}

func TestReclaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f, owner, lic, _ := setup(t, d)
		days := 30
		if _, err := f.App.Workspaces.Create(f.Ctx, owner, accountapi.WorkspaceRequest{Name: "Parc", LicenseID: lic.ID, ReclaimAfterDays: &days}); err != nil {
			t.Fatal(err)
		}
		idle := f.ActivateKey(lic.Key, apptest.FP("idle"))
		f.Clock.Advance(20 * 24 * time.Hour)
		seen := f.ActivateKey(lic.Key, apptest.FP("seen"))
		f.Clock.Advance(15 * 24 * time.Hour) // idle: 35 days; seen: 15 days
		n, err := f.App.Workspaces.Reclaim(f.Ctx, 100)
		if err != nil || n != 1 {
			t.Fatalf("reclaimed %d, %v", n, err)
		}
		if f.Count("SELECT count(*) FROM devices WHERE id = ? AND deactivated_at IS NOT NULL", idle.DeviceID) != 1 ||
			f.Count("SELECT count(*) FROM devices WHERE id = ? AND deactivated_at IS NULL", seen.DeviceID) != 1 {
			t.Fatal("reclaim released the wrong computer")
		}
		_, err = f.Devices.Checkin(f.Ctx, idle.Credential, protocol.CheckinRequest{Fingerprint: apptest.FP("idle")})
		apptest.WantCode(t, err, protocol.ErrDeviceRevoked)
		if f.Audits("device.reclaim") != 1 {
			t.Fatal("reclaim not journaled")
		}
	})
}
