// Package authz is the server's role model: who a caller is (a Principal,
// resolved by the HTTP layer from a bearer token and the {org} path value) and,
// for every route the server registers, who may call it (the route table).
// Domain methods still take the organization id and scope every query with it;
// this package decides whether a caller may reach them at all.
package authz

// Role is a member's role in an organization, lowest first.
type Role string

// Roles. The operator is not a role in an organization: it is the vendor,
// above all organizations (Principal.Operator).
const (
	RoleNone   Role = ""
	RoleMember Role = "member"
	RoleAdmin  Role = "admin"
	RoleOwner  Role = "owner"
)

// Roles lists the organization roles, lowest first.
var roles = [...]Role{RoleMember, RoleAdmin, RoleOwner}

// Valid reports whether r is an organization role.
func (r Role) Valid() bool {
	for _, v := range roles {
		if r == v {
			return true
		}
	}
	return false
}

func (r Role) rank() int {
	for i, v := range roles {
		if r == v {
			return i + 1
		}
	}
	return 0
}

// AtLeast reports whether r is min or above (RoleNone is below every role).
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() }

// Principal is who is calling: a signed-in account (with its role in the
// organization of the request, if the route names one) or the operator.
type Principal struct {
	AccountID string // "" for the operator and for anonymous callers
	OrgID     string // the {org} of the request, when the caller is a member (or the operator)
	Role      Role   // the account's role in OrgID; RoleNone when not a member
	Operator  bool   // an operator token: above all organizations
	TokenID   string // the operator token's id, for the journal
}

// Actor is how the principal is named in the journal.
func (p Principal) Actor() string {
	switch {
	case p.Operator:
		return "operator:" + p.TokenID
	case p.AccountID != "":
		return "account:" + p.AccountID
	}
	return "anonymous"
}
