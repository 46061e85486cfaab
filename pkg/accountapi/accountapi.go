// Package accountapi holds the JSON messages of the server's account API
// (/v1/sessions, /v1/account/..., documented in docs/openapi/server.yaml) and
// their field validation, so the server, its CLI and tests share one
// definition. Business rules (does the account exist, is the password right)
// stay on the server.
package accountapi

import (
	"time"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
)

// LicensePage is the body of GET /v1/account/licenses (?limit=&cursor=).
type LicensePage = paging.Page[LicenseJSON]

// DevicePage is the body of GET /v1/account/devices (?limit=&cursor=).
type DevicePage = paging.Page[DeviceJSON]

// Paths of the account API (for API clients; people use the web pages).
const (
	PathSessions        = "/v1/sessions"
	PathAccountLicenses = "/v1/account/licenses"
	PathAccountDevices  = "/v1/account/devices"
	// PathAccountDevice is DELETE /v1/account/devices/{id}: release a device.
	PathAccountDevice = PathAccountDevices + "/{id}"
)

// Bounds on request fields.
const (
	MaxEmail    = 254
	MaxPassword = 1024
	MaxDeviceID = 128
)

func invalid(msg string) *protocol.Error {
	return &protocol.Error{Code: protocol.ErrInvalidRequest, Message: msg}
}

// SessionRequest is the body of POST /v1/sessions.
type SessionRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Validate checks that both fields are present and bounded; it returns a
// *protocol.Error with code invalid_request.
func (r SessionRequest) Validate() error {
	if r.Email == "" || len(r.Email) > MaxEmail || r.Password == "" || len(r.Password) > MaxPassword {
		return invalid("email and password are required")
	}
	return nil
}

// ValidDeviceID reports whether id can name a device in
// DELETE /v1/account/devices/{id}; others are answered not_found.
func ValidDeviceID(id string) bool { return id != "" && len(id) <= MaxDeviceID }

// SessionResponse returns the bearer token for the account API.
type SessionResponse struct {
	Token   string      `json:"token"`
	Account AccountJSON `json:"account"`
}

// AccountJSON is an account as the API shows it.
type AccountJSON struct {
	ID      string    `json:"id"`
	Email   string    `json:"email"`
	Created time.Time `json:"created"`
}

// LicenseJSON is a license as the API (and the CLI's --json) shows it. The
// key is included: only the license's owner (or an operator on the server
// machine) ever sees this view.
type LicenseJSON struct {
	ID           string     `json:"id"`
	Key          string     `json:"key"`
	OwnerEmail   string     `json:"owner_email"`
	Plan         string     `json:"plan"`
	Features     []string   `json:"features"`
	MaxProfiles  int        `json:"max_profiles"`
	Seats        int        `json:"seats"`
	SeatsUsed    int        `json:"seats_used"`
	TermStart    time.Time  `json:"term_start"`
	TermEnd      *time.Time `json:"term_end,omitempty"` // absent: no end
	Subscription bool       `json:"subscription"`
	Suspended    bool       `json:"suspended"`
	// ManagementMode is how an organization manages the license's computers:
	// "" (not managed), local_remote, local, or remote (they cannot deactivate
	// themselves).
	ManagementMode string    `json:"management_mode"`
	Created        time.Time `json:"created"`
	// OrganizationID is the organization whose seat assignment issued the
	// license (absent for a license issued directly); Revoked is when the
	// organization withdrew it (absent while it is live).
	OrganizationID string     `json:"organization_id,omitempty"`
	Revoked        *time.Time `json:"revoked,omitempty"`
}

// DeviceJSON is an activated computer as the account API shows it.
type DeviceJSON struct {
	ID          string                   `json:"id"`
	LicenseID   string                   `json:"license_id"`
	Fingerprint string                   `json:"fingerprint"`
	Device      protocol.DeviceFacts     `json:"device"`
	ActivatedAt time.Time                `json:"activated_at"`
	LastSeen    time.Time                `json:"last_seen"`
	Active      bool                     `json:"active"`
	Profiles    *protocol.ProfileSummary `json:"profiles,omitempty"`
}
