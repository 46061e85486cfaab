// Package adminapi holds the JSON messages of the server's organization API
// (/v1/orgs/{org}/..., for an organization's members and admins) and operator
// API (/v1/operator/..., for the vendor), with their field validation, so the
// server, its CLI and tests share one definition. Lists are pkg/paging pages.
package adminapi

// Error codes of the organization and operator APIs (words in
// pkg/i18n/locales/*/org.toml); the generic ones are in pkg/protocol.
const (
	ErrAlreadyMember      = "already_member"      // 409: the account is already a member
	ErrLastOwner          = "last_owner"          // 409: the organization would be left without an owner
	ErrDomainNotApproved  = "domain_not_approved" // 403: the email's domain is not approved for the organization
	ErrDomainUnverified   = "domain_unverified"   // 409: the challenge TXT record was not found
	ErrInvitationExpired  = "invitation_expired"  // 410: past its expiry
	ErrInvitationUsed     = "invitation_used"     // 410: already accepted or revoked
	ErrForbidden          = "forbidden"           // 403: the caller's role is too low
	ErrInvitationMismatch = "invitation_mismatch" // 403: the session's account is not the invited email
	ErrAccountExists      = "account_exists"      // 409: accept by signing in, not with a new password
	ErrSeatsAssigned      = "seats_assigned"      // 409: fewer seats than are assigned; release the assigned license first
)
