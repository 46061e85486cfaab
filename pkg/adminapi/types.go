package adminapi

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/entitle/entitle/pkg/protocol"
)

// Paths of the organization and operator APIs.
const (
	PathOrgs              = "/v1/orgs"
	PathOrg               = PathOrgs + "/{org}"
	PathMembers           = PathOrg + "/members"
	PathMember            = PathMembers + "/{account}"
	PathInvitations       = PathOrg + "/invitations"
	PathInvitation        = PathInvitations + "/{id}"
	PathDomains           = PathOrg + "/domains"
	PathDomain            = PathDomains + "/{domain}"
	PathDomainVerify      = PathDomain + "/verify"
	PathInvitationAccept  = "/v1/invitations/accept"
	PathOperatorOrgs      = "/v1/operator/orgs"
	PathOperatorOrg       = PathOperatorOrgs + "/{org}"
	PathOperatorDomainApp = PathOperatorOrg + "/domains/{domain}/approve"
)

// Bounds on request fields.
const (
	MaxName     = 200
	MaxEmail    = 254
	MaxPassword = 1024
	MaxToken    = 512
	MaxDomain   = 253
	MaxLocale   = 35
)

// Roles a member can have.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

func invalid(msg string) *protocol.Error {
	return &protocol.Error{Code: protocol.ErrInvalidRequest, Message: msg}
}

func validRole(r string) bool { return r == RoleOwner || r == RoleAdmin || r == RoleMember }

func text(v string, max int) bool {
	if v == "" || len(v) > max || !utf8.ValidString(v) {
		return false
	}
	return !strings.ContainsFunc(v, unicode.IsControl)
}

// OrgJSON is an organization. Role and Billing are the caller's own
// membership (absent for the operator).
type OrgJSON struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	DefaultLocale string    `json:"default_locale"`
	Created       time.Time `json:"created"`
	Role          string    `json:"role,omitempty"`
	Billing       bool      `json:"billing,omitempty"`
}

// CreateOrgRequest is the body of POST /v1/orgs (the caller becomes the
// owner) and of POST /v1/operator/orgs (OwnerEmail names the first owner,
// an existing account; empty: none yet).
type CreateOrgRequest struct {
	Name       string `json:"name"`
	OwnerEmail string `json:"owner_email,omitempty"`
}

// Validate checks the fields' bounds.
func (r CreateOrgRequest) Validate() error {
	if !text(r.Name, MaxName) {
		return invalid("name is required (at most 200 characters, no control characters)")
	}
	if len(r.OwnerEmail) > MaxEmail {
		return invalid("owner_email is too long")
	}
	return nil
}

// UpdateOrgRequest is the body of PATCH /v1/orgs/{org}.
type UpdateOrgRequest struct {
	Name          *string `json:"name,omitempty"`
	DefaultLocale *string `json:"default_locale,omitempty"`
}

// Validate checks the fields' bounds.
func (r UpdateOrgRequest) Validate() error {
	if r.Name == nil && r.DefaultLocale == nil {
		return invalid("give name or default_locale")
	}
	if r.Name != nil && !text(*r.Name, MaxName) {
		return invalid("name must be 1 to 200 characters, no control characters")
	}
	if r.DefaultLocale != nil && !text(*r.DefaultLocale, MaxLocale) {
		return invalid("default_locale must be a language tag such as en or fr")
	}
	return nil
}

// MemberJSON is a member of an organization.
type MemberJSON struct {
	AccountID string    `json:"account_id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	Billing   bool      `json:"billing"`
	Created   time.Time `json:"created"`
}

// AddMemberRequest is the body of POST /v1/orgs/{org}/members: an existing
// account joins (its email's domain must be approved).
type AddMemberRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// Validate checks the fields.
func (r AddMemberRequest) Validate() error {
	if !text(r.Email, MaxEmail) {
		return invalid("email is required")
	}
	if !validRole(r.Role) {
		return invalid("role must be owner, admin or member")
	}
	return nil
}

// UpdateMemberRequest is the body of PATCH /v1/orgs/{org}/members/{account}.
type UpdateMemberRequest struct {
	Role    *string `json:"role,omitempty"`
	Billing *bool   `json:"billing,omitempty"`
}

// Validate checks the fields.
func (r UpdateMemberRequest) Validate() error {
	if r.Role == nil && r.Billing == nil {
		return invalid("give role or billing")
	}
	if r.Role != nil && !validRole(*r.Role) {
		return invalid("role must be owner, admin or member")
	}
	return nil
}

// RemoveMemberResponse is the answer to DELETE /v1/orgs/{org}/members/{account}.
type RemoveMemberResponse struct {
	// Released lists the seat assignments released with the membership; the
	// member's computers keep working until their next check-in, which
	// tells them the license is no longer theirs.
	Released []string `json:"released"`
}

// InvitationJSON is an invitation (never its token).
type InvitationJSON struct {
	ID        string     `json:"id"`
	Email     string     `json:"email"`
	Role      string     `json:"role"`
	State     string     `json:"state"` // pending, accepted, revoked, expired
	Created   time.Time  `json:"created"`
	Expires   time.Time  `json:"expires"`
	Accepted  *time.Time `json:"accepted,omitempty"`
	InvitedBy string     `json:"invited_by,omitempty"` // account id; empty for the operator
}

// InviteRequest is the body of POST /v1/orgs/{org}/invitations.
type InviteRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// Validate checks the fields.
func (r InviteRequest) Validate() error { return AddMemberRequest(r).Validate() }

// AcceptRequest is the body of POST /v1/invitations/accept: the token from
// the mail and either a password (a new account is made for the invited
// email) or none, with the invitee's session as bearer token.
type AcceptRequest struct {
	Token    string `json:"token"`
	Password string `json:"password,omitempty"`
}

// Validate checks the fields' bounds.
func (r AcceptRequest) Validate() error {
	if r.Token == "" || len(r.Token) > MaxToken {
		return invalid("token is required")
	}
	if len(r.Password) > MaxPassword {
		return invalid("password is too long")
	}
	return nil
}

// AcceptResponse is the answer to POST /v1/invitations/accept: a session
// for the account that joined.
type AcceptResponse struct {
	Token          string `json:"token"`
	AccountID      string `json:"account_id"`
	Email          string `json:"email"`
	OrganizationID string `json:"organization_id"`
	Role           string `json:"role"`
	AccountCreated bool   `json:"account_created"`
}

// DomainJSON is an email domain of an organization.
type DomainJSON struct {
	Domain     string     `json:"domain"`
	Status     string     `json:"status"`           // pending or verified
	Method     string     `json:"method,omitempty"` // dns or operator, once verified
	RecordName string     `json:"record_name"`      // where to publish the TXT record
	Challenge  string     `json:"challenge"`        // the TXT record's value
	Created    time.Time  `json:"created"`
	Verified   *time.Time `json:"verified,omitempty"`
	Checked    *time.Time `json:"checked,omitempty"`
	// FailingSince is set while a verified domain's record is missing; past
	// the grace period the domain becomes pending again.
	FailingSince *time.Time `json:"failing_since,omitempty"`
}

// AddDomainRequest is the body of POST /v1/orgs/{org}/domains.
type AddDomainRequest struct {
	Domain string `json:"domain"`
}

// Validate checks the field's bounds (the server checks the name itself).
func (r AddDomainRequest) Validate() error {
	if !text(r.Domain, MaxDomain) {
		return invalid("domain is required")
	}
	return nil
}

// OperatorTokenJSON is an operator token (its secret only when created).
type OperatorTokenJSON struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"last_used,omitempty"`
	Revoked  *time.Time `json:"revoked,omitempty"`
	Token    string     `json:"token,omitempty"`
}
