package subscriptions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/mail"
	"github.com/entitle/entitle/server/organizations"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// nudges records the computers told to check in.
type nudges struct {
	mu  sync.Mutex
	ids []string
}

func (n *nudges) Notify(_ context.Context, id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ids = append(n.ids, id)
}

func (n *nudges) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.ids
	n.ids = nil
	return out
}

func withNudges(n *nudges) func(*app.Config) { return func(c *app.Config) { c.Notify = n } }

func (f *fixture) mailArgs(kind, to string) []map[string]string {
	f.T.Helper()
	rows, err := f.DB.Query(f.Ctx, "SELECT args FROM mail_outbox WHERE kind = ? AND recipient = ? ORDER BY created_at, id", kind, to)
	if err != nil {
		f.T.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]string
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			f.T.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			f.T.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func (f *fixture) checkin(credential, fingerprint string) error {
	_, err := f.Devices.Checkin(f.Ctx, credential, protocol.CheckinRequest{Fingerprint: fingerprint, Device: apptest.Facts("host")})
	return err
}

func TestAssign(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, own := f.org("Acme", "acme.test")
		ana := f.member(org, "ana@acme.test")
		bob := f.member(org, "bob@acme.test")
		cat := f.member(org, "cat@acme.test")
		outsider := f.Account("eve@elsewhere.test").ID
		sub := f.subscription(org, "pro", 2)
		p := admin(org, own)

		lic, created, err := f.App.Subscriptions.Assign(f.Ctx, p, org, sub, ana)
		if err != nil || !created {
			t.Fatalf("Assign: created %v, %v", created, err)
		}
		subRow := f.sub(sub)
		want := licenses.License{ID: lic.ID, Key: lic.Key, OwnerAccountID: ana, OwnerEmail: "ana@acme.test",
			Plan: licenses.Plan{Name: "Plan pro", Features: []string{"sign", "timestamp"}, MaxProfiles: 5}, Seats: 2,
			TermStart: f.Clock.Now(), TermEnd: store.FromMillis(subRow.TermEnd), Subscription: true, ManagementMode: licenses.ManagedLocalRemote,
			Created: f.Clock.Now(), OrganizationID: org, SubscriptionID: sub}
		if fmt.Sprint(lic) != fmt.Sprint(want) {
			t.Fatalf("license =\n%+v\nwant\n%+v", lic, want)
		}
		if subRow.Assigned != 1 || f.Audits("subscription.assign") != 1 {
			t.Fatalf("assigned %d, journal rows %d; want 1, 1", subRow.Assigned, f.Audits("subscription.assign"))
		}
		mails := f.mailArgs("assignment", "ana@acme.test")
		if len(mails) != 1 || mails[0]["license_key"] != lic.Key || mails[0]["organization"] != "Acme" || mails[0]["install_url"] != apptest.Issuer+"/account" {
			t.Fatalf("assignment mail = %v", mails)
		}
		// The member's license works as any other: activation by key.
		f.ActivateKey(lic.Key, apptest.FP("ana-laptop"))

		// Again: the same license, no second seat, no second mail.
		before := f.Snapshot()
		again, created, err := f.App.Subscriptions.Assign(f.Ctx, p, org, sub, ana)
		if err != nil || again.ID != lic.ID || created {
			t.Fatalf("second Assign = %s (created %v), %v; want %s", again.ID, created, err, lic.ID)
		}
		if after := f.Snapshot(); after != before || f.sub(sub).Assigned != 1 || len(f.mailArgs("assignment", "ana@acme.test")) != 1 {
			t.Fatalf("a repeated assignment changed something:\n%s\n%s", before, after)
		}

		if _, _, err := f.App.Subscriptions.Assign(f.Ctx, p, org, sub, bob); err != nil {
			t.Fatalf("Assign bob: %v", err)
		}
		other := f.otherOrg()
		before = f.Snapshot()
		for _, tc := range []struct {
			name, org, sub, account, code string
		}{
			{"last seat taken", org, sub, cat, protocol.ErrNoSeats},
			{"not a member", org, sub, outsider, protocol.ErrNotFound},
			{"unknown subscription", org, "sub_nope", cat, protocol.ErrNotFound},
			{"other organization's subscription", other, sub, cat, protocol.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := f.App.Subscriptions.Assign(f.Ctx, p, tc.org, tc.sub, tc.account)
				apptest.WantCode(t, err, tc.code)
			})
		}
		if after := f.Snapshot(); after != before || f.sub(sub).Assigned != 2 {
			t.Fatalf("a refused assignment changed something:\n%s\n%s", before, after)
		}
	})
}

func (f *fixture) otherOrg() string {
	f.T.Helper()
	o, err := f.Orgs.Create(f.Ctx, "operator:opt_test", "Other", "")
	if err != nil {
		f.T.Fatal(err)
	}
	return o.ID
}

// TestAssignLastSeatRace: 50 assignments race for the last seat; exactly
// one gets it, the others are told no_seats, and the pool is never
// over-assigned.
func TestAssignLastSeatRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, own := f.org("Acme", "acme.test")
		const n = 2 + 50 // two seats taken first, then 50 racers for the third
		members := make([]string, n)
		for i := range members {
			members[i] = f.member(org, fmt.Sprintf("m%02d@acme.test", i))
		}
		sub := f.subscription(org, "pro", 3)
		for _, m := range members[:2] {
			if _, _, err := f.App.Subscriptions.Assign(f.Ctx, admin(org, own), org, sub, m); err != nil {
				t.Fatal(err)
			}
		}
		rest := members[2:]
		_, errs := apptest.Concurrently(len(rest), func(i int) (licenses.License, error) {
			lic, _, err := f.App.Subscriptions.Assign(f.Ctx, admin(org, own), org, sub, rest[i])
			return lic, err
		})
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case fault.Is(err, protocol.ErrNoSeats):
			default:
				t.Errorf("Assign: %v, want success or no_seats", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d assignments won the last seat, want 1", won)
		}
		if got := f.sub(sub).Assigned; got != 3 {
			t.Fatalf("assigned = %d, want 3", got)
		}
		if got := f.Count("SELECT COUNT(*) FROM licenses WHERE subscription_id = ?", sub); got != 3 {
			t.Fatalf("licenses issued = %d, want 3", got)
		}
		if got := f.Audits("subscription.assign"); got != 3 {
			t.Fatalf("journal rows = %d, want 3", got)
		}
	})
}

func TestUnassign(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		var nudged nudges
		f := newFixture(t, d, withNudges(&nudged))
		org, own := f.org("Acme", "acme.test")
		ana := f.member(org, "ana@acme.test")
		bob := f.member(org, "bob@acme.test")
		sub := f.subscription(org, "pro", 1)
		p := admin(org, own)
		lic, _, err := f.App.Subscriptions.Assign(f.Ctx, p, org, sub, ana)
		if err != nil {
			t.Fatal(err)
		}
		laptop := f.ActivateKey(lic.Key, apptest.FP("ana-laptop"))
		desk := f.ActivateKey(lic.Key, apptest.FP("ana-desk"))
		nudged.take()

		if err := f.App.Subscriptions.Unassign(f.Ctx, p, org, sub, ana); err != nil {
			t.Fatalf("Unassign: %v", err)
		}
		if got := f.sub(sub).Assigned; got != 0 {
			t.Fatalf("assigned = %d, want 0", got)
		}
		if n := f.Count("SELECT COUNT(*) FROM licenses WHERE id = ? AND revoked_at IS NOT NULL AND seats_used = 0", lic.ID); n != 1 {
			t.Fatal("license not revoked with its seats freed")
		}
		if n := f.Count("SELECT COUNT(*) FROM devices WHERE license_id = ? AND deactivated_at IS NULL", lic.ID); n != 0 {
			t.Fatalf("%d devices still active", n)
		}
		if got := nudged.take(); len(got) != 2 {
			t.Fatalf("nudged %v, want both computers", got)
		}
		if f.Audits("subscription.unassign") != 1 || f.Audits("device.release") != 2 || len(f.mailArgs("license_revoked", "ana@acme.test")) != 1 {
			t.Fatalf("journal %d unassign, %d device releases, %d mails; want 1, 2, 1",
				f.Audits("subscription.unassign"), f.Audits("device.release"), len(f.mailArgs("license_revoked", "ana@acme.test")))
		}
		// The computers and any new activation learn license_revoked.
		apptest.WantCode(t, f.checkin(laptop.Credential, apptest.FP("ana-laptop")), protocol.ErrLicenseRevoked)
		apptest.WantCode(t, f.checkin(desk.Credential, apptest.FP("ana-desk")), protocol.ErrLicenseRevoked)
		_, err = f.Devices.Activate(f.Ctx, apptest.KeyRequest(lic.Key, apptest.FP("ana-new")), "192.0.2.1")
		apptest.WantCode(t, err, protocol.ErrLicenseRevoked)

		// A retry changes nothing; a member without a seat is not found.
		before := f.Snapshot()
		if err := f.App.Subscriptions.Unassign(f.Ctx, p, org, sub, ana); err != nil {
			t.Fatalf("second Unassign: %v", err)
		}
		apptest.WantCode(t, f.App.Subscriptions.Unassign(f.Ctx, p, org, sub, bob), protocol.ErrNotFound)
		if after := f.Snapshot(); after != before {
			t.Fatalf("a repeated unassignment changed something:\n%s\n%s", before, after)
		}
		// The seat is free again, and the member can be given a new license.
		if _, _, err := f.App.Subscriptions.Assign(f.Ctx, p, org, sub, bob); err != nil {
			t.Fatalf("Assign after release: %v", err)
		}
		if err := f.App.Subscriptions.Unassign(f.Ctx, p, org, sub, bob); err != nil {
			t.Fatal(err)
		}
		again, _, err := f.App.Subscriptions.Assign(f.Ctx, p, org, sub, ana)
		if err != nil || again.ID == lic.ID {
			t.Fatalf("reassign = %s, %v; want a new license", again.ID, err)
		}
	})
}

func TestMemberRemovedReleasesSeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, own := f.org("Acme", "acme.test")
		ana := f.member(org, "ana@acme.test")
		bob := f.member(org, "bob@acme.test")
		pro := f.subscription(org, "pro", 2)
		team := f.subscription(org, "team", 2)
		p := admin(org, own)
		var held []string
		var key string
		for _, sub := range []string{pro, team} {
			lic, _, err := f.App.Subscriptions.Assign(f.Ctx, p, org, sub, ana)
			if err != nil {
				t.Fatal(err)
			}
			held, key = append(held, lic.ID), lic.Key
		}
		bobs, _, err := f.App.Subscriptions.Assign(f.Ctx, p, org, pro, bob)
		if err != nil {
			t.Fatal(err)
		}
		laptop := f.ActivateKey(key, apptest.FP("ana-laptop"))

		released, err := f.Orgs.RemoveMember(f.Ctx, authz.Principal{AccountID: own, OrgID: org, Role: authz.RoleOwner}, org, ana)
		if err != nil {
			t.Fatalf("RemoveMember: %v", err)
		}
		if fmt.Sprint(sortedCopy(released)) != fmt.Sprint(sortedCopy(held)) {
			t.Fatalf("released %v, want %v", released, held)
		}
		if f.sub(pro).Assigned != 1 || f.sub(team).Assigned != 0 {
			t.Fatalf("assigned %d, %d; want 1, 0", f.sub(pro).Assigned, f.sub(team).Assigned)
		}
		if n := f.Count("SELECT COUNT(*) FROM licenses WHERE owner_account_id = ? AND revoked_at IS NULL", ana); n != 0 {
			t.Fatalf("%d of the removed member's licenses are live", n)
		}
		if n := f.Count("SELECT COUNT(*) FROM licenses WHERE id = ? AND revoked_at IS NULL", bobs.ID); n != 1 {
			t.Fatal("another member's license was revoked")
		}
		apptest.WantCode(t, f.checkin(laptop.Credential, apptest.FP("ana-laptop")), protocol.ErrLicenseRevoked)
	})
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}

// TestAssignRacesMemberRemoval: a member assigned a seat while being
// removed either keeps neither membership nor seat, or the removal fails;
// never a seat held by someone who is no longer a member.
func TestAssignRacesMemberRemoval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, own := f.org("Acme", "acme.test")
		sub := f.subscription(org, "pro", 50)
		ownerP := authz.Principal{AccountID: own, OrgID: org, Role: authz.RoleOwner}
		for i := range 20 {
			m := f.member(org, fmt.Sprintf("r%02d@acme.test", i))
			_, errs := apptest.Concurrently(2, func(j int) (struct{}, error) {
				if j == 0 {
					_, _, err := f.App.Subscriptions.Assign(f.Ctx, admin(org, own), org, sub, m)
					return struct{}{}, err
				}
				_, err := f.Orgs.RemoveMember(f.Ctx, ownerP, org, m)
				return struct{}{}, err
			})
			if errs[1] != nil {
				t.Fatalf("RemoveMember: %v", errs[1])
			}
			if errs[0] != nil && !fault.Is(errs[0], protocol.ErrNotFound) {
				t.Fatalf("Assign: %v", errs[0])
			}
		}
		if n := f.Count(`SELECT COUNT(*) FROM licenses l WHERE l.organization_id = ? AND l.revoked_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = l.organization_id AND m.account_id = l.owner_account_id)`, org); n != 0 {
			t.Fatalf("%d live licenses are held by removed members", n)
		}
		if got, live := f.sub(sub).Assigned, f.Count("SELECT COUNT(*) FROM licenses WHERE subscription_id = ? AND revoked_at IS NULL", sub); got != live {
			t.Fatalf("assigned = %d, live licenses = %d", got, live)
		}
	})
}

// TestAssignmentMailInOrgLanguage: the mail is queued in the organization's
// language and renders from the catalog with the key and where to install.
func TestAssignmentMailInOrgLanguage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, own := f.org("Acme", "acme.test")
		fr := "fr"
		if _, err := f.Orgs.Update(f.Ctx, authz.Principal{AccountID: own, OrgID: org, Role: authz.RoleOwner}, org, organizations.Change{DefaultLocale: &fr}); err != nil {
			t.Fatal(err)
		}
		ana := f.member(org, "ana@acme.test")
		lic, _, err := f.App.Subscriptions.Assign(f.Ctx, admin(org, own), org, f.subscription(org, "pro", 1), ana)
		if err != nil {
			t.Fatal(err)
		}
		var locale, kind string
		if err := f.DB.QueryRow(f.Ctx, "SELECT locale, kind FROM mail_outbox WHERE recipient = ?", "ana@acme.test").Scan(&locale, &kind); err != nil {
			t.Fatal(err)
		}
		r, err := mail.Render(i18n.New(), kind, locale, f.mailArgs(kind, "ana@acme.test")[0])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.Subject, "Une licence Plan pro de Acme vous est attribuée") || !strings.Contains(r.Text, lic.Key) ||
			!strings.Contains(r.Text, apptest.Issuer+"/account") {
			t.Fatalf("mail in %s:\n%s\n%s", locale, r.Subject, r.Text)
		}
	})
}

// TestAssignPlanALicenseCannotCarry: a catalog plan whose features a license
// cannot carry is refused at assignment with whose fix it is, and the seat
// stays free.
func TestAssignPlanALicenseCannotCarry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, own := f.org("Acme", "acme.test")
		ana := f.member(org, "ana@acme.test")
		sub := f.subscription(org, "odd", 1)
		if _, err := f.DB.Exec(f.Ctx, `UPDATE plans SET features = '["Sign Here"]' WHERE code = 'odd'`); err != nil {
			t.Fatal(err)
		}
		before := f.Snapshot()
		_, _, err := f.App.Subscriptions.Assign(f.Ctx, admin(org, own), org, sub, ana)
		if e := apptest.WantCode(t, err, protocol.ErrInvalidRequest); !strings.Contains(e.Message, "ask the operator to correct the plan") {
			t.Fatalf("message %q", e.Message)
		}
		if after := f.Snapshot(); after != before || f.sub(sub).Assigned != 0 {
			t.Fatalf("a refused assignment changed something")
		}
	})
}

// TestAssignmentMailInMemberLanguage: a member who chose a language on the
// console gets the mail in it, whatever the organization's language.
func TestAssignmentMailInMemberLanguage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, own := f.org("Acme", "acme.test") // default language: English
		ana := f.member(org, "ana@acme.test")
		bob := f.member(org, "bob@acme.test")
		if _, err := f.DB.Exec(f.Ctx, "UPDATE accounts SET locale = 'fr' WHERE id = ?", ana); err != nil {
			t.Fatal(err)
		}
		sub := f.subscription(org, "pro", 2)
		for _, m := range []string{ana, bob} {
			if _, _, err := f.App.Subscriptions.Assign(f.Ctx, admin(org, own), org, sub, m); err != nil {
				t.Fatal(err)
			}
		}
		for email, want := range map[string]string{"ana@acme.test": "fr", "bob@acme.test": "en"} {
			var locale string
			if err := f.DB.QueryRow(f.Ctx, "SELECT locale FROM mail_outbox WHERE recipient = ?", email).Scan(&locale); err != nil {
				t.Fatal(err)
			}
			if locale != want {
				t.Errorf("mail to %s in %q, want %q", email, locale, want)
			}
		}
	})
}
