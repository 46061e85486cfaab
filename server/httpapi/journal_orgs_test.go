package httpapi_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/server/authz"
)

var operatorP = authz.Principal{Operator: true}

// org makes a person who owns a new organization whose domain (example.com,
// every person's) is approved; it returns the owner's session and the
// organization's id.
func (re *routeEnv) org(t *testing.T) (string, string) {
	t.Helper()
	email, org, _ := re.ownedOrg(t)
	return re.session(t, email), org
}

// ownedOrg makes the organization of org and returns its owner's email, its
// id and the owner's account id.
func (re *routeEnv) ownedOrg(t *testing.T) (string, string, string) {
	t.Helper()
	email, _, acct := re.person(t)
	ctx := context.Background()
	o, err := re.App.Organizations.Create(ctx, "operator", fmt.Sprintf("Org %d", re.n), acct)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := re.App.Organizations.AddDomain(ctx, operatorP, o.ID, "example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := re.App.Organizations.ApproveDomain(ctx, operatorP, o.ID, "example.com"); err != nil {
		t.Fatal(err)
	}
	return email, o.ID, acct
}

func orgURL(p, org string) string { return orgPath(p, org) }

func orgPath(p, org string) string {
	for i := 0; i+5 <= len(p); i++ {
		if p[i:i+5] == "{org}" {
			return p[:i] + org + p[i+5:]
		}
	}
	return p
}

// member adds a new person to org and returns their account id.
func (re *routeEnv) member(t *testing.T, org string) string {
	t.Helper()
	email, _, acct := re.person(t)
	if _, err := re.App.Organizations.AddMember(context.Background(), operatorP, org, email, authz.RoleMember); err != nil {
		t.Fatal(err)
	}
	return acct
}

func (re *routeEnv) operatorToken(t *testing.T) string {
	t.Helper()
	_, secret, err := re.App.Organizations.CreateOperatorToken(context.Background(), "test", fmt.Sprintf("journal-%d", re.n))
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// The organization routes' cases of TestEveryStateChangingRouteJournals.
func init() {
	journalCases["POST "+adminapi.PathOrgs] = func(t *testing.T, re *routeEnv) func() int {
		email, _, _ := re.person(t)
		tok := re.session(t, email)
		return func() int {
			return re.call(t, "POST", adminapi.PathOrgs, tok, adminapi.CreateOrgRequest{Name: "Nouvelle"}, nil)
		}
	}
	journalCases["PATCH "+adminapi.PathOrg] = func(t *testing.T, re *routeEnv) func() int {
		tok, org := re.org(t)
		name := "Renamed"
		return func() int {
			return re.call(t, "PATCH", orgURL(adminapi.PathOrg, org), tok, adminapi.UpdateOrgRequest{Name: &name}, nil)
		}
	}
	journalCases["POST "+adminapi.PathMembers] = func(t *testing.T, re *routeEnv) func() int {
		tok, org := re.org(t)
		email, _, _ := re.person(t)
		return func() int {
			return re.call(t, "POST", orgURL(adminapi.PathMembers, org), tok, adminapi.AddMemberRequest{Email: email, Role: "member"}, nil)
		}
	}
	journalCases["PATCH "+adminapi.PathMember] = func(t *testing.T, re *routeEnv) func() int {
		tok, org := re.org(t)
		acct := re.member(t, org)
		role := "admin"
		return func() int {
			return re.call(t, "PATCH", orgURL(adminapi.PathMembers, org)+"/"+acct, tok, adminapi.UpdateMemberRequest{Role: &role}, nil)
		}
	}
	journalCases["DELETE "+adminapi.PathMember] = func(t *testing.T, re *routeEnv) func() int {
		tok, org := re.org(t)
		acct := re.member(t, org)
		return func() int { return re.call(t, "DELETE", orgURL(adminapi.PathMembers, org)+"/"+acct, tok, nil, nil) }
	}
	journalCases["POST "+adminapi.PathInvitations] = func(t *testing.T, re *routeEnv) func() int {
		tok, org := re.org(t)
		return func() int {
			return re.call(t, "POST", orgURL(adminapi.PathInvitations, org), tok, adminapi.InviteRequest{Email: fmt.Sprintf("invitee%d@example.com", re.n), Role: "member"}, nil)
		}
	}
	journalCases["DELETE "+adminapi.PathInvitation] = func(t *testing.T, re *routeEnv) func() int {
		tok, org := re.org(t)
		inv, _, err := re.App.Organizations.Invite(context.Background(), operatorP, org, fmt.Sprintf("revoked%d@example.com", re.n), authz.RoleMember, "en")
		if err != nil {
			t.Fatal(err)
		}
		return func() int {
			return re.call(t, "DELETE", orgURL(adminapi.PathInvitations, org)+"/"+inv.ID, tok, nil, nil)
		}
	}
	journalCases["POST "+adminapi.PathInvitationAccept] = func(t *testing.T, re *routeEnv) func() int {
		_, org := re.org(t)
		_, secret, err := re.App.Organizations.Invite(context.Background(), operatorP, org, fmt.Sprintf("accepts%d@example.com", re.n), authz.RoleMember, "en")
		if err != nil {
			t.Fatal(err)
		}
		return func() int {
			return re.call(t, "POST", adminapi.PathInvitationAccept, "", adminapi.AcceptRequest{Token: secret, Password: password}, nil)
		}
	}
	journalCases["POST "+adminapi.PathDomains] = func(t *testing.T, re *routeEnv) func() int {
		tok, org := re.org(t)
		return func() int {
			return re.call(t, "POST", orgURL(adminapi.PathDomains, org), tok, adminapi.AddDomainRequest{Domain: fmt.Sprintf("d%d.example", re.n)}, nil)
		}
	}
	journalCases["POST "+adminapi.PathDomainVerify] = func(t *testing.T, re *routeEnv) func() int {
		tok, org := re.org(t)
		name := fmt.Sprintf("v%d.example", re.n)
		d, err := re.App.Organizations.AddDomain(context.Background(), operatorP, org, name)
		if err != nil {
			t.Fatal(err)
		}
		re.dns.Set("_entitle-challenge."+name, d.Challenge)
		return func() int {
			return re.call(t, "POST", orgURL(adminapi.PathDomains, org)+"/"+name+"/verify", tok, nil, nil)
		}
	}
	journalCases["DELETE "+adminapi.PathDomain] = func(t *testing.T, re *routeEnv) func() int {
		tok, org := re.org(t)
		name := fmt.Sprintf("r%d.example", re.n)
		if _, err := re.App.Organizations.AddDomain(context.Background(), operatorP, org, name); err != nil {
			t.Fatal(err)
		}
		return func() int { return re.call(t, "DELETE", orgURL(adminapi.PathDomains, org)+"/"+name, tok, nil, nil) }
	}
	journalCases["POST "+adminapi.PathOperatorOrgs] = func(t *testing.T, re *routeEnv) func() int {
		op := re.operatorToken(t)
		email, _, _ := re.person(t)
		return func() int {
			return re.call(t, "POST", adminapi.PathOperatorOrgs, op, adminapi.CreateOrgRequest{Name: "Par l’opérateur", OwnerEmail: email}, nil)
		}
	}
	journalCases["POST "+adminapi.PathOperatorDomainApp] = func(t *testing.T, re *routeEnv) func() int {
		op := re.operatorToken(t)
		_, org := re.org(t)
		name := fmt.Sprintf("a%d.example", re.n)
		if _, err := re.App.Organizations.AddDomain(context.Background(), operatorP, org, name); err != nil {
			t.Fatal(err)
		}
		return func() int {
			return re.call(t, "POST", orgURL(adminapi.PathOperatorOrg, org)+"/domains/"+name+"/approve", op, nil, nil)
		}
	}
}
