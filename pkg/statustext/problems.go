package statustext

import (
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
)

// errorIDs word the local API's error codes (agentapi.Err*).
var errorIDs = map[string]string{
	agentapi.ErrBadRequest: "error_bad_request", agentapi.ErrMethodNotAllowed: "error_bad_request",
	agentapi.ErrUnauthorized: "error_unauthorized", agentapi.ErrForbidden: "error_forbidden",
	agentapi.ErrNotFound: "error_not_found", agentapi.ErrConflict: "error_conflict",
	agentapi.ErrTooLarge: "error_too_large", agentapi.ErrRateLimited: "error_rate_limited",
	agentapi.ErrUpstream: "error_server_error", agentapi.ErrUnavailable: "error_unavailable",
	agentapi.ErrInternalError: "error_internal", agentapi.ErrNotConfigured: "error_not_configured",
	agentapi.ErrInvalidCredentials: "error_invalid_credentials", agentapi.ErrLicenseSuspended: "error_license_suspended",
	agentapi.ErrLicenseExpired: "error_license_expired", agentapi.ErrManagedRemotely: "error_managed_remotely",
	agentapi.ErrUnknownLicense: "error_unknown_license", agentapi.ErrNoSeats: "error_no_seats",
	agentapi.ErrNoLicense: "error_no_license", agentapi.ErrDeviceRevoked: "error_device_revoked",
}

// ErrorText words a local API error code, e.g. "the licensing server cannot
// be reached", « le serveur de licences est injoignable ». An unknown code
// (a newer agent) is named.
func ErrorText(loc *i18n.Localizer, code string) string {
	if id, ok := errorIDs[code]; ok {
		return loc.T(id, nil)
	}
	return loc.T("error_unknown", i18n.Args{"code": code})
}

// problemIDs word the problem codes (agentapi.Problem*) whose text takes the
// error that caused them.
var problemIDs = map[string]string{
	agentapi.ProblemCheckinFailed:        "problem_checkin_failed",
	agentapi.ProblemSignInPollFailed:     "problem_signin_poll_failed",
	agentapi.ReasonSignInFailed:          "problem_signin_failed",
	agentapi.ProblemActivationRetrying:   "problem_activation_retrying",
	agentapi.ProblemActivationRefused:    "problem_activation_refused",
	agentapi.ProblemEnrollmentRetrying:   "problem_enrollment_retrying",
	agentapi.ProblemEnrollmentRefused:    "problem_enrollment_refused",
	agentapi.ProblemEnrollmentUnwritable: "problem_enrollment_unwritable",
}

// LastError words the status's last problem from its code and arguments
// (Status.LastErrorCode, LastErrorArgs). A status from an older agent, with
// only the English sentence, or an unknown code gives that sentence; no
// problem gives "".
func LastError(loc *i18n.Localizer, st *agentapi.Status) string {
	code, args := st.LastErrorCode, st.LastErrorArgs
	switch {
	case code == "":
		return st.LastError
	case code == agentapi.ReasonSignInDenied || code == agentapi.ReasonSignInExpired:
		return Reason(loc, code, nil, nil, st.LastError)
	case code == agentapi.ProblemEnrollmentTokenInvalid:
		if args["kind"] == "workspace_token" {
			return loc.T("problem_enrollment_token_workspace", nil)
		}
		return loc.T("problem_enrollment_token_license_key", nil)
	}
	id, ok := problemIDs[code]
	if !ok {
		return st.LastError
	}
	return loc.T(id, i18n.Args{"error": ErrorText(loc, args["error"])})
}

// DeactivateNote words why this computer cannot be deactivated here
// (Status.DeactivateNoteCode), or gives the agent's note for a code this
// client does not know.
func DeactivateNote(loc *i18n.Localizer, st *agentapi.Status) string {
	switch st.DeactivateNoteCode {
	case agentapi.NoteManagedRemotely:
		if st.Organization != "" {
			return loc.T("note_managed_remotely", i18n.Args{"organization": st.Organization})
		}
		return loc.T("note_managed_remotely_unnamed", nil)
	}
	return st.DeactivateNote
}
