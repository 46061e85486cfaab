package organizations_test

import (
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/organizations"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func TestNormalizeDomain(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Example.COM", "example.com"},
		{" example.com. ", "example.com"},
		{"bücher.example", "xn--bcher-kva.example"},
		{"a-b.example", "a-b.example"},
	} {
		if got, err := organizations.NormalizeDomain(c.in); err != nil || got != c.want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "localhost", "-a.example", "a..example", "a_b.example", "exa mple.com", "a@b.example"} {
		if got, err := organizations.NormalizeDomain(bad); err == nil {
			t.Errorf("NormalizeDomain(%q) = %q, want an error", bad, got)
		}
	}
}

func TestDomainVerifiedByDNS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		own := f.account("owner@acme.example")
		o, err := f.Orgs.Create(f.Ctx, "account:"+own, "Acme", own)
		if err != nil {
			t.Fatal(err)
		}
		p := owner(o.ID, own)
		dom, err := f.Orgs.AddDomain(f.Ctx, p, o.ID, "ACME.example")
		if err != nil || dom.Status != organizations.DomainPending || dom.RecordName() != "_entitle-challenge.acme.example" {
			t.Fatalf("add = %+v, %v", dom, err)
		}
		again, err := f.Orgs.AddDomain(f.Ctx, p, o.ID, "acme.example")
		if err != nil || again.ID != dom.ID || again.Challenge != dom.Challenge {
			t.Fatalf("adding twice = %+v, %v; want the same domain", again, err)
		}
		// Not yet approved: no invitations there.
		f.account("x@acme.example")
		_, _, err = f.Orgs.Invite(f.Ctx, p, o.ID, "x@acme.example", authz.RoleMember, "")
		wantCode(t, err, adminapi.ErrDomainNotApproved)

		// No record, then a wrong one, then the right one among others.
		_, err = f.Orgs.VerifyDomain(f.Ctx, p, o.ID, "acme.example")
		wantCode(t, err, adminapi.ErrDomainUnverified)
		f.DNS.Set(dom.RecordName(), "entitle-domain-verification=wrong")
		_, err = f.Orgs.VerifyDomain(f.Ctx, p, o.ID, "acme.example")
		wantCode(t, err, adminapi.ErrDomainUnverified)
		f.DNS.Set(dom.RecordName(), "v=spf1 -all", dom.Challenge)
		v, err := f.Orgs.VerifyDomain(f.Ctx, p, o.ID, "acme.example")
		if err != nil || v.Status != organizations.DomainVerified || v.Method != organizations.MethodDNS {
			t.Fatalf("verify = %+v, %v", v, err)
		}
		if _, _, err := f.Orgs.Invite(f.Ctx, p, o.ID, "x@acme.example", authz.RoleMember, ""); err != nil {
			t.Fatalf("invite at a verified domain: %v", err)
		}
		// Scoped: another organization cannot verify or see it.
		other, otherOwner := f.org("Other", "other.example")
		_, err = f.Orgs.VerifyDomain(f.Ctx, owner(other, otherOwner), other, "acme.example")
		wantCode(t, err, protocol.ErrNotFound)
		list, err := f.Orgs.Domains(f.Ctx, other, paging.Request{})
		if err != nil || list.Total != 1 || list.Items[0].Domain != "other.example" {
			t.Fatalf("other's domains = %+v, %v", list, err)
		}
		if err := f.Orgs.RemoveDomain(f.Ctx, p, o.ID, "acme.example"); err != nil {
			t.Fatal(err)
		}
		_, _, err = f.Orgs.Invite(f.Ctx, p, o.ID, "x@acme.example", authz.RoleMember, "")
		wantCode(t, err, adminapi.ErrDomainNotApproved)
		_, err = f.Orgs.ApproveDomain(f.Ctx, p, o.ID, "acme.example")
		wantCode(t, err, adminapi.ErrForbidden)
	})
}

func TestDomainSweepUnverifiesAfterGrace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		own := f.account("owner@acme.example")
		o, err := f.Orgs.Create(f.Ctx, "account:"+own, "Acme", own)
		if err != nil {
			t.Fatal(err)
		}
		p := owner(o.ID, own)
		dom, err := f.Orgs.AddDomain(f.Ctx, p, o.ID, "acme.example")
		if err != nil {
			t.Fatal(err)
		}
		f.DNS.Set(dom.RecordName(), dom.Challenge)
		if _, err := f.Orgs.VerifyDomain(f.Ctx, p, o.ID, "acme.example"); err != nil {
			t.Fatal(err)
		}
		// An operator-approved domain is never re-checked.
		if _, err := f.Orgs.ApproveDomain(f.Ctx, operator, o.ID, "hand.example"); err != nil {
			t.Fatal(err)
		}
		status := func() (string, time.Time) {
			t.Helper()
			l, err := f.Orgs.Domains(f.Ctx, o.ID, paging.Request{})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range l.Items {
				if x.Domain == "acme.example" {
					return x.Status, x.FailingSince
				}
			}
			t.Fatal("domain gone")
			return "", time.Time{}
		}
		sweep := func(wantChecked int) {
			t.Helper()
			n, err := f.Orgs.SweepDomains(f.Ctx)
			if err != nil || n != wantChecked {
				t.Fatalf("sweep checked %d, %v; want %d", n, err, wantChecked)
			}
		}
		sweep(0) // just verified: not due
		f.Clock.Advance(25 * time.Hour)
		sweep(1)
		if s, since := status(); s != organizations.DomainVerified || !since.IsZero() {
			t.Fatalf("record present: %s since %v", s, since)
		}
		f.DNS.Set(dom.RecordName())
		f.Clock.Advance(25 * time.Hour)
		sweep(1)
		s, since := status()
		if s != organizations.DomainVerified || since.IsZero() {
			t.Fatalf("record gone, in grace: %s since %v", s, since)
		}
		f.Clock.Advance(25 * time.Hour)
		sweep(1)
		if s, _ := status(); s != organizations.DomainVerified {
			t.Fatalf("still in grace after 25 h: %s", s)
		}
		f.Clock.Advance(50 * time.Hour) // 75 h past the first miss
		sweep(1)
		if s, _ := status(); s != organizations.DomainPending {
			t.Fatalf("past grace: %s, want pending", s)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_events WHERE action = 'org.domain.unverify' AND subject = ?", dom.ID); n != 1 {
			t.Fatalf("unverify journal rows = %d, want 1", n)
		}
		f.Clock.Advance(25 * time.Hour)
		sweep(0) // pending and operator-approved domains are not swept
	})
}

func TestOperatorTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		tok, secret, err := f.Orgs.CreateOperatorToken(f.Ctx, "admin", "alice's laptop")
		if err != nil || !organizations.IsOperatorToken(secret) {
			t.Fatalf("create = %+v %q, %v", tok, secret, err)
		}
		id, err := f.Orgs.OperatorTokenID(f.Ctx, secret)
		if err != nil || id != tok.ID {
			t.Fatalf("check = %q, %v", id, err)
		}
		_, err = f.Orgs.OperatorTokenID(f.Ctx, secret+"x")
		wantCode(t, err, protocol.ErrInvalidCredentials)
		list, err := f.Orgs.OperatorTokens(f.Ctx)
		if err != nil || len(list) != 1 || list[0].LastUsed.IsZero() {
			t.Fatalf("list = %+v, %v", list, err)
		}
		if err := f.Orgs.RevokeOperatorToken(f.Ctx, "admin", tok.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.Orgs.RevokeOperatorToken(f.Ctx, "admin", tok.ID); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
		wantCode(t, f.Orgs.RevokeOperatorToken(f.Ctx, "admin", "opt_missing"), protocol.ErrNotFound)
		_, err = f.Orgs.OperatorTokenID(f.Ctx, secret)
		wantCode(t, err, protocol.ErrInvalidCredentials)
		if n := f.count("SELECT COUNT(*) FROM operator_tokens WHERE token_hash = ?", secret); n != 0 {
			t.Fatal("the raw operator token is stored")
		}
	})
}
