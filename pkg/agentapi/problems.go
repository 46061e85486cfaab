package agentapi

// Problem codes of Status.LastErrorCode: what went wrong last in the
// agent's own work (a check-in, a browser sign-in, finishing an activation,
// the enrollment token). They are stable; a client words them in its reader's
// language (pkg/statustext.LastError) and Status.LastError keeps the English
// sentence for logs. Status.LastErrorArgs carries the arguments listed
// beside each code; "error" is always a local API error code (Err*) saying
// why, which a client words too.
const (
	// A scheduled or asked-for check-in failed (the server could not be
	// reached, failed, or refused: suspended license or computer...).
	ProblemCheckinFailed = "checkin_failed" // error
	// Polling the server for a browser sign-in failed; it is retried.
	ProblemSignInPollFailed = "signin_poll_failed" // error
	// A browser sign-in ended without activating: the reason codes
	// signin_denied, signin_expired, signin_failed (error) are used as
	// problem codes too.

	// An activation the server may have committed is resent.
	ProblemActivationRetrying = "activation_retrying" // error
	// An interrupted activation was refused by the server when resent.
	ProblemActivationRefused = "activation_refused" // error

	// Automatic activation with the configured enrollment token.
	ProblemEnrollmentRetrying     = "enrollment_retrying"         // error
	ProblemEnrollmentRefused      = "enrollment_refused"          // error: not retried until the agent restarts
	ProblemEnrollmentTokenInvalid = "enrollment_token_invalid"    // kind: workspace_token or license_key
	ProblemEnrollmentUnwritable   = "enrollment_state_unwritable" // the state folder cannot be written
)

// ProblemCodes lists every problem code, for documentation and tests.
func ProblemCodes() []string {
	return []string{
		ProblemCheckinFailed, ProblemSignInPollFailed, ReasonSignInDenied, ReasonSignInExpired, ReasonSignInFailed,
		ProblemActivationRetrying, ProblemActivationRefused,
		ProblemEnrollmentRetrying, ProblemEnrollmentRefused, ProblemEnrollmentTokenInvalid, ProblemEnrollmentUnwritable,
	}
}

// ErrorCodes lists every local API error code, for documentation and tests.
func ErrorCodes() []string {
	return []string{
		ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrMethodNotAllowed, ErrConflict, ErrTooLarge,
		ErrRateLimited, ErrUpstream, ErrUnavailable, ErrInternalError,
		ErrInvalidCredentials, ErrLicenseSuspended, ErrLicenseExpired, ErrManagedRemotely, ErrUnknownLicense,
		ErrNoSeats, ErrNoLicense, ErrDeviceRevoked, ErrNotConfigured,
	}
}

// Deactivate note codes of Status.DeactivateNoteCode.
const (
	// NoteManagedRemotely: only the organization (Status.Organization, may
	// be empty) may release this computer's seat.
	NoteManagedRemotely = "managed_remotely"
)
