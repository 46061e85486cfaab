package organizations_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
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
		// The owner's membership is part of the creation's one row.
		if n := f.count("SELECT COUNT(*) FROM audit_events WHERE action IN ('org.create', 'org.member.add') AND subject IN (?, ?)", org.ID, alice); n != 1 {
			t.Errorf("journal rows for the creation = %d, want 1", n)
		}
		_, err = f.Orgs.Get(f.Ctx, "org_missing")
		wantCode(t, err, protocol.ErrNotFound)
		_, err = f.Orgs.Create(f.Ctx, "account:"+alice, "", alice)
		wantCode(t, err, protocol.ErrInvalidRequest)
	})
}

func TestMembersRolesAndLastOwner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, own := f.org("Acme", "acme.example")
		adm := f.account("adm@acme.example")
		mem := f.account("mem@acme.example")
		f.account("stranger@elsewhere.example")
		ownP := owner(org, own)
		if _, err := f.Orgs.AddMember(f.Ctx, ownP, org, "ADM@acme.example", authz.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		admP := as(org, adm, authz.RoleAdmin)
		if _, err := f.Orgs.AddMember(f.Ctx, admP, org, "mem@acme.example", authz.RoleMember); err != nil {
			t.Fatal(err)
		}
		_, err := f.Orgs.AddMember(f.Ctx, admP, org, "mem@acme.example", authz.RoleMember)
		wantCode(t, err, adminapi.ErrAlreadyMember)
		_, err = f.Orgs.AddMember(f.Ctx, admP, org, "stranger@elsewhere.example", authz.RoleMember)
		wantCode(t, err, adminapi.ErrDomainNotApproved)
		_, err = f.Orgs.AddMember(f.Ctx, admP, org, "nobody@acme.example", authz.RoleMember)
		wantCode(t, err, protocol.ErrNotFound)

		// An admin cannot touch owners; the last owner cannot step down.
		ownerRole, adminRole, yes := authz.RoleOwner, authz.RoleAdmin, true
		_, err = f.Orgs.ChangeMember(f.Ctx, admP, org, mem, organizations.MemberChange{Role: &ownerRole})
		wantCode(t, err, adminapi.ErrForbidden)
		_, err = f.Orgs.ChangeMember(f.Ctx, ownP, org, own, organizations.MemberChange{Role: &adminRole})
		wantCode(t, err, adminapi.ErrLastOwner)
		_, err = f.Orgs.RemoveMember(f.Ctx, ownP, org, own)
		wantCode(t, err, adminapi.ErrLastOwner)
		_, err = f.Orgs.RemoveMember(f.Ctx, admP, org, own)
		wantCode(t, err, adminapi.ErrForbidden)

		m, err := f.Orgs.ChangeMember(f.Ctx, ownP, org, adm, organizations.MemberChange{Role: &ownerRole, Billing: &yes})
		if err != nil || m.Role != authz.RoleOwner || !m.Billing {
			t.Fatalf("promote = %+v, %v", m, err)
		}
		// With a second owner the first may step down.
		if _, err := f.Orgs.ChangeMember(f.Ctx, ownP, org, own, organizations.MemberChange{Role: &adminRole}); err != nil {
			t.Fatal(err)
		}

		var hooked []string
		f.Orgs.OnMemberRemoved = func(ctx context.Context, tx *store.Tx, o, a string) ([]string, error) {
			hooked = append(hooked, o+"/"+a)
			return []string{"asg_1"}, nil
		}
		released, err := f.Orgs.RemoveMember(f.Ctx, as(org, adm, authz.RoleOwner), org, mem)
		if err != nil || len(released) != 1 || len(hooked) != 1 || hooked[0] != org+"/"+mem {
			t.Fatalf("remove = %v, %v; hook saw %v", released, err, hooked)
		}
		// A failing hook rolls the removal back.
		f.Orgs.OnMemberRemoved = func(context.Context, *store.Tx, string, string) ([]string, error) { return nil, errors.New("boom") }
		if _, err := f.Orgs.RemoveMember(f.Ctx, as(org, adm, authz.RoleOwner), org, own); err == nil {
			t.Fatal("remove with a failing hook succeeded")
		}
		if r, _ := f.Orgs.Role(f.Ctx, org, own); r != authz.RoleAdmin {
			t.Fatalf("after a failed removal role = %q, want admin", r)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_events WHERE action = 'org.member.remove' AND subject = ?", own); n != 0 {
			t.Fatalf("a rolled-back removal left %d journal rows", n)
		}
	})
}

func TestMembersPaginatedAndScoped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, own := f.org("Acme", "acme.example")
		other, _ := f.org("Other", "other.example")
		for i := range 7 {
			e := fmt.Sprintf("m%d@acme.example", i)
			f.account(e)
			if _, err := f.Orgs.AddMember(f.Ctx, owner(org, own), org, e, authz.RoleMember); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]bool{}
		req := paging.Request{Limit: 3}
		for pages := 0; ; pages++ {
			p, err := f.Orgs.Members(f.Ctx, org, req)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != 8 {
				t.Fatalf("total = %d, want 8", p.Total)
			}
			for _, m := range p.Items {
				if m.OrganizationID != org || seen[m.AccountID] {
					t.Fatalf("member %+v repeated or from another organization", m)
				}
				seen[m.AccountID] = true
			}
			if p.NextCursor == "" {
				break
			}
			req.Cursor = p.NextCursor
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
		}
		if len(seen) != 8 {
			t.Fatalf("saw %d members, want 8", len(seen))
		}
		// Another organization's members are not this one's.
		p, err := f.Orgs.Members(f.Ctx, other, paging.Request{})
		if err != nil || p.Total != 1 {
			t.Fatalf("other org members = %+v, %v", p, err)
		}
		_, err = f.Orgs.ChangeMember(f.Ctx, owner(other, ""), other, own, organizations.MemberChange{})
		wantCode(t, err, protocol.ErrNotFound)
		_, err = f.Orgs.Members(f.Ctx, org, paging.Request{Cursor: "junk"})
		wantCode(t, err, protocol.ErrInvalidRequest)

		orgs, err := f.Orgs.ListFor(f.Ctx, own, paging.Request{})
		if err != nil || orgs.Total != 1 || orgs.Items[0].ID != org || orgs.Items[0].Role != authz.RoleOwner {
			t.Fatalf("ListFor = %+v, %v", orgs, err)
		}
		all, err := f.Orgs.ListFor(f.Ctx, "", paging.Request{Limit: 1})
		if err != nil || all.Total != 2 || len(all.Items) != 1 || all.NextCursor == "" {
			t.Fatalf("operator list = %+v, %v", all, err)
		}
	})
}
