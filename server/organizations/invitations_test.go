package organizations_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/mail"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func TestInvitationLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		org, own := f.org("Acme", "acme.example")
		p := owner(org, own)

		_, _, err := f.Orgs.Invite(f.Ctx, p, org, "eve@evil.example", authz.RoleMember, "fr")
		wantCode(t, err, adminapi.ErrDomainNotApproved)
		_, _, err = f.Orgs.Invite(f.Ctx, as(org, own, authz.RoleAdmin), org, "boss@acme.example", authz.RoleOwner, "")
		wantCode(t, err, adminapi.ErrForbidden)

		inv, tok, err := f.Orgs.Invite(f.Ctx, p, org, "New@Acme.example", authz.RoleAdmin, "fr")
		if err != nil {
			t.Fatal(err)
		}
		if inv.Email != "new@acme.example" || inv.State(f.Clock.Now()) != "pending" || !inv.Expires.Equal(inv.Created.Add(7*24*time.Hour)) {
			t.Fatalf("invitation = %+v", inv)
		}
		// Only the token's hash is stored.
		if n := f.count("SELECT COUNT(*) FROM invitations WHERE token_hash = ?", ids.HashSecret(tok)); n != 1 {
			t.Fatal("the token's hash is not stored")
		}
		if n := f.count("SELECT COUNT(*) FROM invitations WHERE token_hash = ?", tok); n != 0 {
			t.Fatal("the raw token is stored")
		}
		// The mail is in the outbox, in the inviter's language, with a link.
		var kind, to, locale, args, orgCol string
		if err := f.DB.QueryRow(f.Ctx, "SELECT kind, recipient, locale, args, organization_id FROM mail_outbox WHERE idempotency_key = ?", "invitation:"+inv.ID).
			Scan(&kind, &to, &locale, &args, &orgCol); err != nil {
			t.Fatal(err)
		}
		var a map[string]string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(a["accept_url"])
		if err != nil || kind != mail.KindInvitation || to != "new@acme.example" || locale != "fr" || orgCol != org ||
			!strings.HasPrefix(a["accept_url"], apptest.Issuer+"/invitations/accept?") || u.Query().Get("token") != tok ||
			a["organization"] != "Acme" || a["inviter"] != "owner@acme.example" {
			t.Fatalf("mail %s to %s (%s, org %s): %v", kind, to, locale, orgCol, a)
		}

		// Accepting with a password makes the account and joins.
		_, err = f.Orgs.Accept(f.Ctx, tok, "short", "")
		wantCode(t, err, protocol.ErrInvalidRequest)
		acc, err := f.Orgs.Accept(f.Ctx, tok, apptest.Password, "")
		if err != nil || !acc.Created || acc.Role != authz.RoleAdmin || acc.OrganizationID != org {
			t.Fatalf("accept = %+v, %v", acc, err)
		}
		if r, _ := f.Orgs.Role(f.Ctx, org, acc.AccountID); r != authz.RoleAdmin {
			t.Fatalf("role after accepting = %q", r)
		}
		if _, err := f.Accounts.Login(f.Ctx, "new@acme.example", apptest.Password, "192.0.2.1"); err != nil {
			t.Fatalf("the new account cannot sign in: %v", err)
		}
		// Single use.
		_, err = f.Orgs.Accept(f.Ctx, tok, apptest.Password, "")
		wantCode(t, err, adminapi.ErrInvitationUsed)
		_, err = f.Orgs.Accept(f.Ctx, "not-a-token", apptest.Password, "")
		wantCode(t, err, protocol.ErrNotFound)

		// An existing account accepts by signing in, with the invited email only.
		bob := f.account("bob@acme.example")
		inv2, tok2, err := f.Orgs.Invite(f.Ctx, p, org, "bob@acme.example", authz.RoleMember, "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Orgs.Accept(f.Ctx, tok2, apptest.Password, "")
		wantCode(t, err, adminapi.ErrAccountExists)
		_, err = f.Orgs.Accept(f.Ctx, tok2, "", own)
		wantCode(t, err, adminapi.ErrInvitationMismatch)
		acc2, err := f.Orgs.Accept(f.Ctx, tok2, "", bob)
		if err != nil || acc2.Created || acc2.AccountID != bob {
			t.Fatalf("accept by session = %+v, %v", acc2, err)
		}

		// Expired and revoked invitations are refused.
		_, tok3, err := f.Orgs.Invite(f.Ctx, p, org, "late@acme.example", authz.RoleMember, "")
		if err != nil {
			t.Fatal(err)
		}
		inv4, tok4, err := f.Orgs.Invite(f.Ctx, p, org, "gone@acme.example", authz.RoleMember, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Orgs.RevokeInvitation(f.Ctx, p, org, inv4.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.Orgs.Accept(f.Ctx, tok4, apptest.Password, "")
		wantCode(t, err, adminapi.ErrInvitationUsed)
		wantCode(t, f.Orgs.RevokeInvitation(f.Ctx, p, org, inv2.ID), adminapi.ErrInvitationUsed)
		f.Clock.Advance(7*24*time.Hour + time.Second)
		_, err = f.Orgs.Accept(f.Ctx, tok3, apptest.Password, "")
		wantCode(t, err, adminapi.ErrInvitationExpired)

		// Revoking is scoped by organization.
		other, otherOwner := f.org("Other", "other.example")
		wantCode(t, f.Orgs.RevokeInvitation(f.Ctx, owner(other, otherOwner), other, inv.ID), protocol.ErrNotFound)

		page, err := f.Orgs.Invitations(f.Ctx, org, paging.Request{Limit: 2})
		if err != nil || page.Total != 4 || len(page.Items) != 2 || page.NextCursor == "" {
			t.Fatalf("invitations = %+v, %v", page, err)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_events WHERE action = 'org.invitation.accept'"); n != 2 {
			t.Fatalf("accept journal rows = %d, want 2", n)
		}
	})
}
