// Package agentapi holds the JSON types of the agent's local REST API
// (documented in docs/openapi/agent.yaml), shared by the agent, the tray, the
// command line and pkg/client.
package agentapi

import "time"

// DefaultListen is the agent's default loopback address.
const DefaultListen = "127.0.0.1:7343"

// TokenHeader carries the API token (from the token file in the state folder).
// "Authorization: Bearer <token>" is accepted too.
const TokenHeader = "X-Entitle-Token"

// TokenFile is the name of the API token file in the agent's state folder.
const TokenFile = "api-token"

// Paths of the local API.
const (
	PathEntitlement = "/v1/entitlement"
	PathStatus      = "/v1/status"
	PathActivation  = "/v1/activation" // POST activate, DELETE deactivate
	PathCheck       = "/v1/check"      // POST: check in with the server now
	PathEvents      = "/v1/events"     // server-sent events
	PathHealth      = "/v1/health"
	PathOpenAPI     = "/v1/openapi.yaml"
	PathProfiles    = "/v1/profiles"
)

// MaxBodyBytes caps request bodies of the local API.
const MaxBodyBytes = 64 << 10

// State is the machine-readable entitlement state.
type State string

const (
	StateActive        State = "active"         // lease valid, server reachable
	StateOffline       State = "offline"        // lease valid, server unreachable since OfflineSince
	StateExpired       State = "expired"        // lease or license term over
	StateInactive      State = "inactive"       // not activated
	StateSuspended     State = "suspended"      // license suspended or device revoked by the server
	StateTampered      State = "tampered"       // clock rolled back or state file edited
	StateForeign       State = "foreign"        // the activation belongs to another computer
	StateNotConfigured State = "not_configured" // the agent lacks the settings to reach a licensing server (Reason says which)
)

// Entitled reports whether the state grants use of the product.
func (s State) Entitled() bool { return s == StateActive || s == StateOffline }

// Entitlement is the body of GET /v1/entitlement: the answer to "am I entitled?".
// Lease is the server-signed token: a signing app verifies it with the server's
// public key and its own fingerprint computation (see pkg/client).
type Entitlement struct {
	Entitled       bool       `json:"entitled"`
	State          State      `json:"state"`
	Reason         string     `json:"reason"`      // ReasonCode rendered for a person, in the request's Accept-Language
	ReasonCode     string     `json:"reason_code"` // stable machine code of the reason (Reason* constants)
	ReasonArgs     ReasonArgs `json:"reason_args,omitempty"`
	Feature        string     `json:"feature,omitempty"` // set when ?feature= was asked
	Plan           string     `json:"plan,omitempty"`
	Features       []string   `json:"features,omitempty"`
	MaxProfiles    int        `json:"max_profiles,omitempty"`
	ProfileCount   int        `json:"profile_count"`
	LicenseID      string     `json:"license_id,omitempty"`
	TermEnd        *time.Time `json:"term_end,omitempty"`
	LeaseExpiry    *time.Time `json:"lease_expiry,omitempty"`
	DeviceID       string     `json:"device_id,omitempty"`
	ManagementMode string     `json:"management_mode,omitempty"`
	Lease          string     `json:"lease,omitempty"`
	CheckedAt      time.Time  `json:"checked_at"` // when this answer was computed
}

// ProfileInfo is one signature profile as the agent reports it.
type ProfileInfo struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Owner      string     `json:"owner"`
	Default    bool       `json:"default"`
	Status     string     `json:"status"` // valid, expiring, expired, not_yet_valid, invalid, unlicensed
	Reason     string     `json:"reason,omitempty"`
	Subject    string     `json:"subject,omitempty"`
	Issuer     string     `json:"issuer,omitempty"`
	Serial     string     `json:"serial,omitempty"`
	NotBefore  *time.Time `json:"not_before,omitempty"`
	NotAfter   *time.Time `json:"not_after,omitempty"`
	SelfSigned bool       `json:"self_signed"`
	HasKey     bool       `json:"has_key"`
	Licensed   bool       `json:"licensed"`
	// Adopted: the folder has no profile.json; id, name and creation time
	// come from the folder name and the certificate.
	Adopted bool      `json:"adopted,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// ProfilesStatus summarizes the profile folder for the status endpoint.
type ProfilesStatus struct {
	Folder     string `json:"folder"`
	Count      int    `json:"count"`
	Default    string `json:"default,omitempty"`
	Invalid    int    `json:"invalid"`
	Expiring   int    `json:"expiring"`
	Expired    int    `json:"expired"`
	Unlicensed int    `json:"unlicensed"`
	// Usable counts the profiles a signing application can use: licensed
	// and not invalid (expired ones included: the application decides).
	Usable            int           `json:"usable"`
	EarliestCertUntil *time.Time    `json:"earliest_cert_until,omitempty"`
	NotProfiles       []NotAProfile `json:"not_profiles,omitempty"`
	Warnings          []string      `json:"warnings,omitempty"`
}

// NotAProfile is an entry of the profile folder's root that is not a
// profile (e.g. a certificate dropped there), with what to do about it.
type NotAProfile struct {
	Name    string `json:"name"`
	Code    string `json:"code"` // pkcs12_at_root, certificate_at_root, other_at_root
	Reason  string `json:"reason"`
	Command string `json:"command,omitempty"` // the command that imports it
}

// Status is the body of GET /v1/status: everything the tray shows.
type Status struct {
	Entitlement  Entitlement `json:"entitlement"`
	Activated    bool        `json:"activated"`
	ServerURL    string      `json:"server_url"`
	Account      string      `json:"account,omitempty"`
	Organization string      `json:"organization,omitempty"`
	Workspace    string      `json:"workspace,omitempty"`
	OfflineSince *time.Time  `json:"offline_since,omitempty"`
	GraceUntil   *time.Time  `json:"grace_until,omitempty"`
	LastCheckin  *time.Time  `json:"last_checkin,omitempty"`
	NextCheckin  *time.Time  `json:"next_checkin,omitempty"`
	// LastError is the English sentence of the last problem, for logs;
	// LastErrorCode (Problem* codes) and LastErrorArgs are what a client
	// words for its reader.
	LastError      string            `json:"last_error,omitempty"`
	LastErrorCode  string            `json:"last_error_code,omitempty"`
	LastErrorArgs  map[string]string `json:"last_error_args,omitempty"`
	Pending        *PendingAuth      `json:"pending_auth,omitempty"` // a browser sign-in in progress
	Profiles       *ProfilesStatus   `json:"profiles,omitempty"`
	HelpURL        string            `json:"help_url,omitempty"`
	AgentVersion   string            `json:"agent_version"`
	DeactivateOK   bool              `json:"deactivate_allowed"`
	DeactivateNote string            `json:"deactivate_note,omitempty"` // why not, when not allowed (English, for logs)
	// DeactivateNoteCode is DeactivateNote's code (Note* constants).
	DeactivateNoteCode string `json:"deactivate_note_code,omitempty"`
	// MissingConfig names the settings the agent needs and lacks
	// ("server_url", "pinned_keys"); the state is then not_configured.
	MissingConfig []string `json:"missing_config,omitempty"`
	// Delivery is how remote commands reach this computer now: "stream"
	// (pushed at once), "long_poll" (a proxy buffers the stream), "checkin"
	// (only at scheduled check-ins); empty when not activated.
	Delivery string `json:"delivery,omitempty"`
}

// Delivery modes of Status.Delivery.
const (
	DeliveryStream   = "stream"
	DeliveryLongPoll = "long_poll"
	DeliveryCheckin  = "checkin"
)

// PendingAuth is a device-authorization sign-in waiting for the person.
type PendingAuth struct {
	UserCode                string    `json:"user_code"`
	VerificationURI         string    `json:"verification_uri"`
	VerificationURIComplete string    `json:"verification_uri_complete"`
	ExpiresAt               time.Time `json:"expires_at"`
}

// Activation methods for POST /v1/activation.
const (
	ActivateBrowser    = "browser" // device authorization; the response carries PendingAuth
	ActivateLicenseKey = "license_key"
	ActivatePassword   = "password"
)

// ActivateRequest is the body of POST /v1/activation.
type ActivateRequest struct {
	Method     string `json:"method"`
	LicenseKey string `json:"license_key,omitempty"`
	Email      string `json:"email,omitempty"`
	Password   string `json:"password,omitempty"`
}

// ActivateResponse is the answer of POST /v1/activation: the new status, and for
// the browser method the code to show (the agent polls the server by itself).
type ActivateResponse struct {
	Status  Status       `json:"status"`
	Pending *PendingAuth `json:"pending_auth,omitempty"`
}

// Event is one server-sent event of GET /v1/events. Type is the SSE event
// name; Status is the full status after the change, so a client never needs a
// second request. Code and Args say why, for a client's own words (deactivated:
// the reason code deactivated_remotely, detail); Message is then the English
// sentence, for logs. For EventMessage, Message is an administrator's text,
// shown as written.
type Event struct {
	Type    string            `json:"type"` // status, profile_added, profile_changed, profile_removed, cert_expiring, deactivated, message
	Time    time.Time         `json:"time"`
	Code    string            `json:"code,omitempty"`
	Args    map[string]string `json:"args,omitempty"`
	Message string            `json:"message,omitempty"`
	Status  *Status           `json:"status,omitempty"`
}

// Event types.
const (
	EventStatus         = "status"
	EventProfileAdded   = "profile_added"
	EventProfileChanged = "profile_changed"
	EventProfileRemoved = "profile_removed"
	EventCertExpiring   = "cert_expiring"
	EventDeactivated    = "deactivated"
	// EventMessage carries an administrator's message (remote command
	// show_message) in Message, to show to the person as written.
	EventMessage = "message"
)

// Error is the body of every non-2xx local API response.
type Error struct {
	Code    string            `json:"error"`
	Message string            `json:"message"`
	Args    map[string]string `json:"args,omitempty"` // the code's arguments, for a client's own words
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Error codes of the local API.
const (
	ErrBadRequest   = "bad_request"  // 400: malformed JSON or bad field
	ErrUnauthorized = "unauthorized" // 401: missing or wrong API token
	ErrForbidden    = "forbidden"    // 403: browser-originated request, bad Host, or not allowed by management mode
	ErrNotFound     = "not_found"    // 404
	// ErrMethodNotAllowed: 405, the path exists with other methods (listed in Allow).
	ErrMethodNotAllowed = "method_not_allowed"
	ErrConflict         = "conflict"     // 409: e.g. already activated, name clash
	ErrTooLarge         = "too_large"    // 413
	ErrRateLimited      = "rate_limited" // 429
	ErrUpstream         = "server_error" // 502: the licensing server refused or failed; Message carries its words
	ErrUnavailable      = "unavailable"  // 503: the licensing server cannot be reached
	ErrInternalError    = "internal"     // 500
)

// Error codes of the licensing server's refusals, passed on by the agent
// with their own status (agent/engine's serverCode is the one mapping
// table; docs/openapi/agent.yaml and docs/operations.md list it).
const (
	ErrInvalidCredentials = "invalid_credentials" // 401: wrong email or password (not the API token: that is unauthorized)
	ErrLicenseSuspended   = "license_suspended"   // 403
	ErrLicenseExpired     = "license_expired"     // 403
	ErrManagedRemotely    = "managed_remotely"    // 403: only the organization's administrator may do this
	ErrUnknownLicense     = "unknown_license"     // 404: no license with this key
	ErrNoSeats            = "no_seats"            // 409: every seat of the license is in use
	ErrNoLicense          = "no_license"          // 409: the account has no license with a free seat
	ErrDeviceRevoked      = "device_revoked"      // 410: this computer was deactivated on the server
	// ErrNotConfigured (503): the agent cannot talk to a licensing server
	// until server_url and pinned_keys are configured.
	ErrNotConfigured = "not_configured"
)

// HTTPStatus returns the HTTP status the agent uses for an error code.
func HTTPStatus(code string) int {
	switch code {
	case ErrBadRequest:
		return 400
	case ErrUnauthorized, ErrInvalidCredentials:
		return 401
	case ErrForbidden, ErrLicenseSuspended, ErrLicenseExpired, ErrManagedRemotely:
		return 403
	case ErrNotFound, ErrUnknownLicense:
		return 404
	case ErrMethodNotAllowed:
		return 405
	case ErrConflict, ErrNoSeats, ErrNoLicense:
		return 409
	case ErrDeviceRevoked:
		return 410
	case ErrTooLarge:
		return 413
	case ErrRateLimited:
		return 429
	case ErrUpstream:
		return 502
	case ErrUnavailable, ErrNotConfigured:
		return 503
	default:
		return 500
	}
}
