// Package protocol holds the JSON messages exchanged between the agent and the
// licensing server (the /v1 server API, documented in docs/openapi/server.yaml).
// Both sides import these types so the wire format has one definition.
package protocol

// Paths of the server API used by agents.
const (
	PathHealth          = "/v1/health"
	PathKeys            = "/v1/keys"
	PathActivations     = "/v1/activations"      // POST: activate by license key or password
	PathDeviceAuthorize = "/v1/device/authorize" // POST: RFC 8628 device authorization request
	PathDeviceToken     = "/v1/device/token"     // POST: RFC 8628 polling
	PathCheckin         = "/v1/checkin"          // POST, bearer device credential
	PathDevice          = "/v1/device"           // DELETE, bearer device credential: deactivate self
	PathDeviceStream    = "/v1/device/stream"    // GET, bearer device credential: push stream (SSE, or ?wait=long-poll)
	PathVerify          = "/device"              // browser page where a person enters the user code
)

// MaxBodyBytes bounds every request and response body of the server API.
const MaxBodyBytes = 64 << 10

// Activation methods.
const (
	MethodLicenseKey = "license_key"
	MethodPassword   = "password"
	// MethodEnrollment activates with a workspace's enrollment token
	// (silent deployment): the computer joins the workspace's license.
	MethodEnrollment = "enrollment_token"
)

// DeviceFacts describes the computer being activated, for people managing it.
type DeviceFacts struct {
	Hostname     string `json:"hostname"`
	OS           string `json:"os"`
	Arch         string `json:"arch"`
	AgentVersion string `json:"agent_version"`
}

// ActivateRequest is the body of POST /v1/activations.
type ActivateRequest struct {
	Method     string `json:"method"` // MethodLicenseKey or MethodPassword
	LicenseKey string `json:"license_key,omitempty"`
	// EnrollmentToken is the token of MethodEnrollment (secret: never logged).
	EnrollmentToken string      `json:"enrollment_token,omitempty"`
	Email           string      `json:"email,omitempty"`
	Password        string      `json:"password,omitempty"`
	Fingerprint     string      `json:"fingerprint"`
	Product         string      `json:"product"`
	Device          DeviceFacts `json:"device"`
	// Nonce, when set, is copied into the lease of the answer (claim
	// "nonce"), binding the answer to this request: an agent refuses an
	// activation answer that does not carry its own nonce (a replay).
	Nonce string `json:"nonce,omitempty"`
}

// MaxNonce bounds ActivateRequest.Nonce.
const MaxNonce = 128

// ValidNonce reports whether s is an acceptable activation nonce: 16 to
// MaxNonce characters among A-Z, a-z, 0-9, '-' and '_'.
func ValidNonce(s string) bool {
	if len(s) < 16 || len(s) > MaxNonce {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ActivateResponse is returned by a successful activation (POST
// /v1/activations, or POST /v1/device/token once approved). The credential is
// sent once: re-activating the same fingerprint on the same license returns the
// same device with a fresh credential, which replaces the old one.
type ActivateResponse struct {
	DeviceID     string `json:"device_id"`
	Credential   string `json:"credential"`
	Lease        string `json:"lease"`
	Existing     bool   `json:"existing"` // true when the fingerprint already held a seat
	SeatsUsed    int    `json:"seats_used"`
	SeatsTotal   int    `json:"seats_total"`
	CheckinAfter int    `json:"checkin_after"` // seconds
}

// RFC 8628 section 3.5 error codes, returned in Error.Code with status 400
// while polling POST /v1/device/token.
const (
	ErrAuthorizationPending = "authorization_pending"
	ErrSlowDown             = "slow_down"
	ErrAccessDenied         = "access_denied"
	ErrExpiredToken         = "expired_token"
)

// Other error codes of the server API.
const (
	ErrInvalidRequest     = "invalid_request"      // 400: malformed JSON, missing or bad field
	ErrInvalidCredentials = "invalid_credentials"  // 401: wrong email/password, bad device credential
	ErrUnknownLicense     = "unknown_license"      // 404: no such license key
	ErrLicenseExpired     = "license_expired"      // 403
	ErrLicenseSuspended   = "license_suspended"    // 403
	ErrManagedRemotely    = "managed_remotely"     // 403: the license's management mode lets only the administrator deactivate
	ErrNoSeats            = "no_seats"             // 409: all seats in use
	ErrNoLicense          = "no_license"           // 409: account has no license with a free seat
	ErrDeviceRevoked      = "device_revoked"       // 410: the device was deactivated (by its owner or an admin)
	ErrLicenseRevoked     = "license_revoked"      // 410: the organization withdrew the license (released the seat assignment)
	ErrRateLimited        = "rate_limited"         // 429
	ErrBusy               = "busy"                 // 503: too much work in flight (password checks); retry after Retry-After
	ErrTooLarge           = "too_large"            // 413
	ErrNotFound           = "not_found"            // 404
	ErrMethodNotAllowed   = "method_not_allowed"   // 405: the path exists with other methods (listed in Allow)
	ErrInternal           = "internal"             // 500
	ErrCommandPending     = "command_pending"      // 409: a command of this type is already waiting for the device
	ErrLocalOnly          = "local_only"           // 409: the device is managed locally only and takes no remote commands
	ErrDeviceSuspended    = "device_suspended"     // 403: an administrator suspended this computer (it keeps its seat)
	ErrWorkspaceNameTaken = "workspace_name_taken" // 409: another workspace of the owner has this name
	ErrLicenseInWorkspace = "license_in_workspace" // 409: the license is already held by a workspace
	ErrEnrollmentRefused  = "enrollment_refused"   // 403: the enrollment token is unknown, revoked, expired or used up
)

// Error is the body of every non-2xx response of the server API.
type Error struct {
	Code    string `json:"error"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ProfileSummary is the signature-profile inventory the agent reports with each
// check-in, for administrators.
type ProfileSummary struct {
	Total             int    `json:"total"`
	Valid             int    `json:"valid"`
	Expiring          int    `json:"expiring"`
	Expired           int    `json:"expired"`
	Invalid           int    `json:"invalid"`
	Unlicensed        int    `json:"unlicensed"`
	Default           string `json:"default,omitempty"`             // default profile name
	EarliestCertUntil int64  `json:"earliest_cert_until,omitempty"` // Unix seconds
}

// CheckinRequest is the body of POST /v1/checkin (Authorization: Bearer <credential>).
type CheckinRequest struct {
	Fingerprint    string          `json:"fingerprint"`
	Device         DeviceFacts     `json:"device"`
	Profiles       *ProfileSummary `json:"profiles,omitempty"`
	CommandResults []CommandResult `json:"command_results,omitempty"`
}

// CheckinResponse carries a fresh lease and pending commands.
type CheckinResponse struct {
	Lease        string    `json:"lease"`
	Commands     []Command `json:"commands"`
	CheckinAfter int       `json:"checkin_after"` // seconds
}

// HTTPStatus returns the HTTP status the server uses for an error code.
func HTTPStatus(code string) int {
	switch code {
	case ErrInvalidRequest, ErrAuthorizationPending, ErrSlowDown, ErrAccessDenied, ErrExpiredToken:
		return 400
	case ErrInvalidCredentials:
		return 401
	case ErrLicenseExpired, ErrLicenseSuspended, ErrManagedRemotely, ErrDeviceSuspended, ErrEnrollmentRefused:
		return 403
	case ErrUnknownLicense, ErrNotFound:
		return 404
	case ErrMethodNotAllowed:
		return 405
	case ErrNoSeats, ErrNoLicense, ErrCommandPending, ErrLocalOnly, ErrWorkspaceNameTaken, ErrLicenseInWorkspace:
		return 409
	case ErrDeviceRevoked, ErrLicenseRevoked:
		return 410
	case ErrTooLarge:
		return 413
	case ErrRateLimited:
		return 429
	case ErrBusy:
		return 503
	default:
		return 500
	}
}
