package adminapi

import (
	"strings"
	"time"
)

// Paths of the subscription routes: an organization's seat pools, the seats
// assigned to its members, and the operator's lifecycle actions.
const (
	PathSubscriptions         = PathOrg + "/subscriptions"
	PathSubscription          = PathSubscriptions + "/{sub}"
	PathAssignments           = PathSubscription + "/assignments"
	PathAssignment            = PathAssignments + "/{account}"
	PathOperatorSubscriptions = "/v1/operator/subscriptions"
	PathOperatorSubscription  = PathOperatorSubscriptions + "/{sub}"
	PathOperatorSubSuspend    = PathOperatorSubscription + "/suspend"
	PathOperatorSubResume     = PathOperatorSubscription + "/resume"
	PathOperatorSubExtend     = PathOperatorSubscription + "/extend"
)

// Bounds of the subscription fields.
const (
	MaxSubscriptionSeats = 1_000_000
	MaxReason            = 500
	MaxID                = 64
)

// SubscriptionJSON is an organization's pool of seats of one plan.
type SubscriptionJSON struct {
	ID             string     `json:"id"`
	OrganizationID string     `json:"organization_id"`
	PlanID         string     `json:"plan_id"`
	PlanCode       string     `json:"plan_code"`
	PlanName       string     `json:"plan_name"`
	Seats          int        `json:"seats"`
	Assigned       int        `json:"assigned"`
	TermMonths     int        `json:"term_months"`
	TermStart      time.Time  `json:"term_start"`
	TermEnd        time.Time  `json:"term_end"`
	AutoRenew      bool       `json:"auto_renew"`
	Suspended      *time.Time `json:"suspended,omitempty"`
	RenewalOrderID string     `json:"renewal_order_id,omitempty"`
	Created        time.Time  `json:"created"`
}

// AssignmentJSON is a seat assigned to a member: the license issued to them.
// The license key is the member's and is not shown here (the assignment
// mail and their account carry it).
type AssignmentJSON struct {
	AccountID string    `json:"account_id"`
	Email     string    `json:"email"`
	LicenseID string    `json:"license_id"`
	Plan      string    `json:"plan"`
	Devices   int       `json:"devices"`      // computers the license takes
	DevicesOn int       `json:"devices_used"` // computers activated on it
	TermEnd   time.Time `json:"term_end"`
	Created   time.Time `json:"created"`
}

// AssignRequest is the body of POST .../subscriptions/{sub}/assignments: the
// member, by account id or by email (one of them).
type AssignRequest struct {
	AccountID string `json:"account_id,omitempty"`
	Email     string `json:"email,omitempty"`
}

// Validate checks that exactly one member is named.
func (r AssignRequest) Validate() error {
	if (r.AccountID == "") == (r.Email == "") {
		return invalid("give the member's account_id or email (one of them)")
	}
	if r.AccountID != "" && !text(r.AccountID, MaxID) {
		return invalid("account_id is too long")
	}
	if r.Email != "" && !text(r.Email, MaxEmail) {
		return invalid("email is too long")
	}
	return nil
}

// UpdateSubscriptionRequest is the body of PATCH /v1/orgs/{org}/subscriptions/{sub}
// (an admin: auto_renew, and seats down to those assigned) and of PATCH
// /v1/operator/subscriptions/{sub} (the operator: every field).
type UpdateSubscriptionRequest struct {
	AutoRenew  *bool   `json:"auto_renew,omitempty"`
	Seats      *int    `json:"seats,omitempty"`
	PlanID     *string `json:"plan_id,omitempty"`
	TermMonths *int    `json:"term_months,omitempty"`
}

// Validate checks the fields' bounds.
func (r UpdateSubscriptionRequest) Validate() error {
	switch {
	case r.AutoRenew == nil && r.Seats == nil && r.PlanID == nil && r.TermMonths == nil:
		return invalid("give auto_renew, seats, plan_id or term_months")
	case r.Seats != nil && (*r.Seats < 0 || *r.Seats > MaxSubscriptionSeats):
		return invalid("seats must be between 0 and 1000000")
	case r.PlanID != nil && !text(*r.PlanID, MaxID):
		return invalid("plan_id must be a plan's id")
	case r.TermMonths != nil && (*r.TermMonths < 1 || *r.TermMonths > MaxTermMonths):
		return invalid("term_months must be between 1 and 120")
	}
	return nil
}

// SuspendRequest is the body of POST /v1/operator/subscriptions/{sub}/suspend.
type SuspendRequest struct {
	Reason string `json:"reason,omitempty"`
}

// Validate checks the reason's bounds.
func (r SuspendRequest) Validate() error {
	if len(r.Reason) > MaxReason || strings.ContainsRune(r.Reason, 0) {
		return invalid("reason has at most 500 bytes")
	}
	return nil
}

// ExtendRequest is the body of POST /v1/operator/subscriptions/{sub}/extend.
type ExtendRequest struct {
	TermEnd time.Time `json:"term_end"`
}

// Validate checks that a term end is given.
func (r ExtendRequest) Validate() error {
	if r.TermEnd.IsZero() {
		return invalid("term_end is required (RFC 3339)")
	}
	return nil
}
