package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/organizations"
)

// Orgs is the part of *organizations.Service the API uses.
type Orgs interface {
	Create(ctx context.Context, actor, name, ownerAccountID string) (organizations.Organization, error)
	Get(ctx context.Context, id string) (organizations.Organization, error)
	Update(ctx context.Context, p authz.Principal, orgID string, c organizations.Change) (organizations.Organization, error)
	Role(ctx context.Context, orgID, accountID string) (authz.Role, error)
	ListFor(ctx context.Context, accountID string, req paging.Request) (paging.Page[organizations.Membership], error)
	Members(ctx context.Context, orgID string, req paging.Request) (paging.Page[organizations.Member], error)
	AddMember(ctx context.Context, p authz.Principal, orgID, email string, role authz.Role) (organizations.Member, error)
	ChangeMember(ctx context.Context, p authz.Principal, orgID, accountID string, c organizations.MemberChange) (organizations.Member, error)
	RemoveMember(ctx context.Context, p authz.Principal, orgID, accountID string) ([]string, error)
	Invite(ctx context.Context, p authz.Principal, orgID, email string, role authz.Role, locale string) (organizations.Invitation, string, error)
	Invitations(ctx context.Context, orgID string, req paging.Request) (paging.Page[organizations.Invitation], error)
	RevokeInvitation(ctx context.Context, p authz.Principal, orgID, id string) error
	Accept(ctx context.Context, token, password, sessionAccountID string) (organizations.Accepted, error)
	AddDomain(ctx context.Context, p authz.Principal, orgID, name string) (organizations.Domain, error)
	Domains(ctx context.Context, orgID string, req paging.Request) (paging.Page[organizations.Domain], error)
	VerifyDomain(ctx context.Context, p authz.Principal, orgID, name string) (organizations.Domain, error)
	ApproveDomain(ctx context.Context, p authz.Principal, orgID, name string) (organizations.Domain, error)
	RemoveDomain(ctx context.Context, p authz.Principal, orgID, name string) error
	OperatorTokenID(ctx context.Context, secret string) (string, error)
	AccountIDByEmail(ctx context.Context, email string) (string, error)
}

// registerOrgs serves the organization, invitation and operator routes.
func (s *Server) registerOrgs() {
	if s.d.Orgs == nil {
		return
	}
	s.handleAs("POST "+adminapi.PathInvitationAccept, s.acceptInvitation)
	s.handleAs("GET "+adminapi.PathOrgs, s.listMyOrgs)
	s.handleAs("POST "+adminapi.PathOrgs, s.createOrg)
	s.handleAs("GET "+adminapi.PathOrg, s.getOrg)
	s.handleAs("PATCH "+adminapi.PathOrg, s.updateOrg)
	s.handleAs("GET "+adminapi.PathMembers, s.listMembers)
	s.handleAs("POST "+adminapi.PathMembers, s.addMember)
	s.handleAs("PATCH "+adminapi.PathMember, s.updateMember)
	s.handleAs("DELETE "+adminapi.PathMember, s.removeMember)
	s.handleAs("GET "+adminapi.PathInvitations, s.listInvitations)
	s.handleAs("POST "+adminapi.PathInvitations, s.invite)
	s.handleAs("DELETE "+adminapi.PathInvitation, s.revokeInvitation)
	s.handleAs("GET "+adminapi.PathDomains, s.listDomains)
	s.handleAs("POST "+adminapi.PathDomains, s.addDomain)
	s.handleAs("POST "+adminapi.PathDomainVerify, s.verifyDomain)
	s.handleAs("DELETE "+adminapi.PathDomain, s.removeDomain)
	s.handleAs("GET "+adminapi.PathOperatorOrgs, s.operatorListOrgs)
	s.handleAs("POST "+adminapi.PathOperatorOrgs, s.operatorCreateOrg)
	s.handleAs("GET "+adminapi.PathOperatorOrg, s.getOrg)
	s.handleAs("POST "+adminapi.PathOperatorDomainApp, s.approveDomain)
}

func orgView(o organizations.Organization) adminapi.OrgJSON {
	return adminapi.OrgJSON{ID: o.ID, Name: o.Name, DefaultLocale: o.DefaultLocale, Created: o.Created}
}

func memberView(m organizations.Member) adminapi.MemberJSON {
	return adminapi.MemberJSON{AccountID: m.AccountID, Email: m.Email, Role: string(m.Role), Billing: m.Billing, Created: m.Created}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func invitationView(i organizations.Invitation, now time.Time) adminapi.InvitationJSON {
	return adminapi.InvitationJSON{ID: i.ID, Email: i.Email, Role: string(i.Role), State: i.State(now), Created: i.Created,
		Expires: i.Expires, Accepted: timePtr(i.AcceptedAt), InvitedBy: i.InvitedBy}
}

func domainView(d organizations.Domain) adminapi.DomainJSON {
	return adminapi.DomainJSON{Domain: d.Domain, Status: d.Status, Method: d.Method, RecordName: d.RecordName(), Challenge: d.Challenge,
		Created: d.Created, Verified: timePtr(d.VerifiedAt), Checked: timePtr(d.CheckedAt), FailingSince: timePtr(d.FailingSince)}
}

func mapPage[T, U any](p paging.Page[T], f func(T) U) paging.Page[U] {
	out := paging.Page[U]{Items: make([]U, 0, len(p.Items)), NextCursor: p.NextCursor, Total: p.Total}
	for _, it := range p.Items {
		out.Items = append(out.Items, f(it))
	}
	return out
}

// pageRequest reads ?limit= and ?cursor=; on failure it has answered 400.
func pageRequest(w http.ResponseWriter, r *http.Request) (paging.Request, bool) {
	req, err := paging.FromQuery(r.URL.Query())
	if err != nil {
		writeError(w, apiError(protocol.ErrInvalidRequest, err.Error()))
		return paging.Request{}, false
	}
	return req, true
}

func (s *Server) listMyOrgs(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	req, ok := pageRequest(w, r)
	if !ok {
		return
	}
	page, err := s.d.Orgs.ListFor(r.Context(), p.AccountID, req)
	if err != nil {
		s.failure(w, r, "list organizations", err)
		return
	}
	writeJSON(w, http.StatusOK, mapPage(page, func(m organizations.Membership) adminapi.OrgJSON {
		v := orgView(m.Organization)
		v.Role, v.Billing = string(m.Role), m.Billing
		return v
	}))
}

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.CreateOrgRequest
	if !decodeValid(w, r, &req) {
		return
	}
	if req.OwnerEmail != "" {
		writeError(w, apiError(protocol.ErrInvalidRequest, "owner_email is for the operator; you become the owner of the organization you create"))
		return
	}
	o, err := s.d.Orgs.Create(r.Context(), p.Actor(), req.Name, p.AccountID)
	if err != nil {
		s.failure(w, r, "create organization", err)
		return
	}
	v := orgView(o)
	v.Role = string(authz.RoleOwner)
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) getOrg(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	o, err := s.d.Orgs.Get(r.Context(), r.PathValue("org"))
	if err != nil {
		s.failure(w, r, "get organization", err)
		return
	}
	v := orgView(o)
	v.Role = string(p.Role)
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) updateOrg(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.UpdateOrgRequest
	if !decodeValid(w, r, &req) {
		return
	}
	o, err := s.d.Orgs.Update(r.Context(), p, r.PathValue("org"), organizations.Change{Name: req.Name, DefaultLocale: req.DefaultLocale})
	if err != nil {
		s.failure(w, r, "update organization", err)
		return
	}
	writeJSON(w, http.StatusOK, orgView(o))
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	req, ok := pageRequest(w, r)
	if !ok {
		return
	}
	page, err := s.d.Orgs.Members(r.Context(), r.PathValue("org"), req)
	if err != nil {
		s.failure(w, r, "list members", err)
		return
	}
	writeJSON(w, http.StatusOK, mapPage(page, memberView))
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.AddMemberRequest
	if !decodeValid(w, r, &req) {
		return
	}
	m, err := s.d.Orgs.AddMember(r.Context(), p, r.PathValue("org"), req.Email, authz.Role(req.Role))
	if err != nil {
		s.failure(w, r, "add member", err)
		return
	}
	writeJSON(w, http.StatusCreated, memberView(m))
}

func (s *Server) updateMember(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.UpdateMemberRequest
	if !decodeValid(w, r, &req) {
		return
	}
	c := organizations.MemberChange{Billing: req.Billing}
	if req.Role != nil {
		role := authz.Role(*req.Role)
		c.Role = &role
	}
	m, err := s.d.Orgs.ChangeMember(r.Context(), p, r.PathValue("org"), r.PathValue("account"), c)
	if err != nil {
		s.failure(w, r, "change member", err)
		return
	}
	writeJSON(w, http.StatusOK, memberView(m))
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	released, err := s.d.Orgs.RemoveMember(r.Context(), p, r.PathValue("org"), r.PathValue("account"))
	if err != nil {
		s.failure(w, r, "remove member", err)
		return
	}
	if released == nil {
		released = []string{}
	}
	writeJSON(w, http.StatusOK, adminapi.RemoveMemberResponse{Released: released})
}

func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	req, ok := pageRequest(w, r)
	if !ok {
		return
	}
	page, err := s.d.Orgs.Invitations(r.Context(), r.PathValue("org"), req)
	if err != nil {
		s.failure(w, r, "list invitations", err)
		return
	}
	now := time.Now()
	writeJSON(w, http.StatusOK, mapPage(page, func(i organizations.Invitation) adminapi.InvitationJSON { return invitationView(i, now) }))
}

func (s *Server) invite(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.InviteRequest
	if !decodeValid(w, r, &req) {
		return
	}
	inv, _, err := s.d.Orgs.Invite(r.Context(), p, r.PathValue("org"), req.Email, authz.Role(req.Role), requestLocale(r))
	if err != nil {
		s.failure(w, r, "invite", err)
		return
	}
	writeJSON(w, http.StatusCreated, invitationView(inv, inv.Created))
}

func (s *Server) revokeInvitation(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	if err := s.d.Orgs.RevokeInvitation(r.Context(), p, r.PathValue("org"), r.PathValue("id")); err != nil {
		s.failure(w, r, "revoke invitation", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
	var req adminapi.AcceptRequest
	if !decodeValid(w, r, &req) {
		return
	}
	var sessionAccount string
	if req.Password == "" {
		acct, _, ok := s.account(w, r)
		if !ok {
			return
		}
		sessionAccount = acct.ID
	}
	acc, err := s.d.Orgs.Accept(r.Context(), req.Token, req.Password, sessionAccount)
	if err != nil {
		s.failure(w, r, "accept invitation", err)
		return
	}
	writeJSON(w, http.StatusCreated, adminapi.AcceptResponse{Token: acc.Token, AccountID: acc.AccountID, Email: acc.Email,
		OrganizationID: acc.OrganizationID, Role: string(acc.Role), AccountCreated: acc.Created})
}

func (s *Server) listDomains(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	req, ok := pageRequest(w, r)
	if !ok {
		return
	}
	page, err := s.d.Orgs.Domains(r.Context(), r.PathValue("org"), req)
	if err != nil {
		s.failure(w, r, "list domains", err)
		return
	}
	writeJSON(w, http.StatusOK, mapPage(page, domainView))
}

func (s *Server) addDomain(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.AddDomainRequest
	if !decodeValid(w, r, &req) {
		return
	}
	d, err := s.d.Orgs.AddDomain(r.Context(), p, r.PathValue("org"), req.Domain)
	if err != nil {
		s.failure(w, r, "add domain", err)
		return
	}
	writeJSON(w, http.StatusCreated, domainView(d))
}

func (s *Server) verifyDomain(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	d, err := s.d.Orgs.VerifyDomain(r.Context(), p, r.PathValue("org"), r.PathValue("domain"))
	if err != nil {
		s.failure(w, r, "verify domain", err)
		return
	}
	writeJSON(w, http.StatusOK, domainView(d))
}

func (s *Server) removeDomain(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	if err := s.d.Orgs.RemoveDomain(r.Context(), p, r.PathValue("org"), r.PathValue("domain")); err != nil {
		s.failure(w, r, "remove domain", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) operatorListOrgs(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
	req, ok := pageRequest(w, r)
	if !ok {
		return
	}
	page, err := s.d.Orgs.ListFor(r.Context(), "", req)
	if err != nil {
		s.failure(w, r, "list organizations", err)
		return
	}
	writeJSON(w, http.StatusOK, mapPage(page, func(m organizations.Membership) adminapi.OrgJSON { return orgView(m.Organization) }))
}

func (s *Server) operatorCreateOrg(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.CreateOrgRequest
	if !decodeValid(w, r, &req) {
		return
	}
	var owner string
	if req.OwnerEmail != "" {
		id, err := s.d.Orgs.AccountIDByEmail(r.Context(), req.OwnerEmail)
		if err != nil {
			s.failure(w, r, "find owner", err)
			return
		}
		owner = id
	}
	o, err := s.d.Orgs.Create(r.Context(), p.Actor(), req.Name, owner)
	if err != nil {
		s.failure(w, r, "create organization", err)
		return
	}
	writeJSON(w, http.StatusCreated, orgView(o))
}

func (s *Server) approveDomain(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	d, err := s.d.Orgs.ApproveDomain(r.Context(), p, r.PathValue("org"), r.PathValue("domain"))
	if err != nil {
		s.failure(w, r, "approve domain", err)
		return
	}
	writeJSON(w, http.StatusOK, domainView(d))
}
