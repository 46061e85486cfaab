package agentapi

// ReasonArgs are the arguments of a reason code: names to strings, times in
// RFC 3339 (UTC), so a program can act on them and any client can render
// the reason in its own language.
type ReasonArgs map[string]string

// Reason codes of Entitlement.ReasonCode. They are stable: a program may
// switch on them; new codes may be added (treat an unknown one by State).
// The arguments each carries are listed beside it; docs/reason-codes.md is
// the table for integrators.
const (
	// Entitled.
	ReasonLicensed      = "licensed"        // plan, term_end
	ReasonLicensedNoEnd = "licensed_no_end" // plan
	ReasonOfflineGrace  = "offline_grace"   // offline_since, grace_until

	// Not entitled, state inactive.
	ReasonNotActivated      = "not_activated"
	ReasonSignInPending     = "signin_pending" // user_code, verification_uri
	ReasonSignInDenied      = "signin_denied"
	ReasonSignInExpired     = "signin_expired"
	ReasonSignInFailed      = "signin_failed"        // detail
	ReasonDeactivatedRemote = "deactivated_remotely" // detail (the server's words, may be empty)
	ReasonLicenseRevoked    = "license_revoked"      // detail (the server's words, may be empty): the organization withdrew the license
	ReasonStateUnreadable   = "state_unreadable"     // detail
	ReasonLeaseUntrusted    = "lease_untrusted"      // detail
	ReasonLeaseNotYetValid  = "lease_not_yet_valid"  // not_before
	// An activation by email and password was cut off before its answer was
	// saved (passwords are never stored, so it is not resumed).
	ReasonActivationInterrupted = "activation_interrupted"
	// An interrupted license-key activation is being finished by the agent.
	ReasonActivationInProgress = "activation_in_progress"

	// Not entitled, other states.
	ReasonForeignDevice     = "foreign_device"      // foreign
	ReasonStateTampered     = "state_tampered"      // tampered; detail
	ReasonClockRolledBack   = "clock_rolled_back"   // tampered; now, trusted_time
	ReasonClockBehindServer = "clock_behind_server" // tampered; issued_at, now
	// Small set-backs since the last check-in add up past the allowance.
	ReasonClockSetBackBudget = "clock_setback_budget"  // tampered; set_back, allowed (Go durations)
	ReasonSuspended          = "license_suspended"     // suspended; detail (the server's words, may be empty)
	ReasonDeviceSuspended    = "device_suspended"      // suspended: an administrator suspended this computer (it keeps its seat)
	ReasonTermEnded          = "license_term_ended"    // expired; term_end
	ReasonLeaseExpired       = "lease_expired"         // expired; lease_expiry
	ReasonLeaseExpiredOff    = "lease_expired_offline" // expired; lease_expiry, offline_since
	ReasonNotConfigured      = "not_configured"        // not_configured; missing (comma-separated settings)

	// Feature answers (?feature=NAME): the license is fine but does not
	// include the feature; State stays the license's state.
	ReasonFeatureNotInPlan = "feature_not_in_plan" // plan, feature
)

// ReasonCodes lists every reason code, for documentation and tests.
func ReasonCodes() []string {
	return []string{
		ReasonLicensed, ReasonLicensedNoEnd, ReasonOfflineGrace,
		ReasonNotActivated, ReasonSignInPending, ReasonSignInDenied, ReasonSignInExpired, ReasonSignInFailed,
		ReasonDeactivatedRemote, ReasonLicenseRevoked, ReasonStateUnreadable, ReasonLeaseUntrusted, ReasonLeaseNotYetValid,
		ReasonActivationInterrupted, ReasonActivationInProgress, ReasonClockSetBackBudget,
		ReasonForeignDevice, ReasonStateTampered, ReasonClockRolledBack, ReasonClockBehindServer,
		ReasonSuspended, ReasonDeviceSuspended, ReasonTermEnded, ReasonLeaseExpired, ReasonLeaseExpiredOff, ReasonNotConfigured,
		ReasonFeatureNotInPlan,
	}
}
