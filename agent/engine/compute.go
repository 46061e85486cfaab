package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/entitle/entitle/agent/state"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/statustext"
)

// ForeignReason is the error message of operations refused on a computer
// holding a copy of another computer's activation.
const ForeignReason = "this activation belongs to another computer"

// ClockTolerance is how far the clock may fall behind the trusted-time mark
// before the agent calls it tampering. It is also the budget that all the
// set-backs seen since the server last vouched for the time share
// (state.ClockSetBack): many small set-backs add up.
const ClockTolerance = time.Hour

// view is everything the entitlement answer depends on.
type view struct {
	now          time.Time
	missing      []string // settings the agent lacks (config.Missing)
	fingerprint  string
	loadErr      error // the state file was refused
	st           *state.State
	claims       *lease.Claims // signature-verified claims of st.Lease
	leaseErr     error         // why st.Lease did not parse or verify
	profileCount int
	// defaultMgmt is the configured management_mode: shown when the lease
	// names none, never used to decide anything (remoteManaged).
	defaultMgmt string
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func timePtr(t time.Time) *time.Time { return &t }

// mine reports whether the view holds claims issued to this computer.
func (v *view) mine() bool {
	return v.loadErr == nil && v.st.Activated() && v.claims != nil && v.claims.Fingerprint == v.fingerprint
}

// foreign reports whether the stored activation belongs to another computer.
func (v *view) foreign() bool {
	return v.loadErr == nil && v.st.Activated() && v.claims != nil && v.claims.Fingerprint != v.fingerprint
}

// remoteManaged reports whether the lease (signed by the server, the only
// authority) says the organization manages this computer remotely, which
// forbids deactivating it locally. The configured management_mode plays no
// part: a local setting can neither loosen nor tighten what the server says.
func (v *view) remoteManaged() bool {
	return v.mine() && v.claims.ManagementMode == "remote"
}

// managementMode is the mode shown in the entitlement: the lease's, or the
// configured default while the lease names none.
func (v *view) managementMode() string {
	if v.claims != nil && v.claims.ManagementMode != "" {
		return v.claims.ManagementMode
	}
	return v.defaultMgmt
}

// rolledBack reports whether the clock reads more than ClockTolerance before
// the trusted-time mark.
func (v *view) rolledBack() bool {
	return !v.st.TrustedTime.IsZero() && v.now.Before(v.st.TrustedTime.Add(-ClockTolerance))
}

// overBudget reports whether the set-backs seen since the server last
// vouched for the time add up to more than ClockTolerance.
func (v *view) overBudget() bool { return v.st.ClockSetBack > ClockTolerance }

// compute derives the general (feature "") entitlement. It is pure: same
// view, same answer. It sets the reason's code and arguments; the engine
// renders Reason from them (reasonText), as clients do in their language.
func compute(v view) agentapi.Entitlement {
	e := agentapi.Entitlement{CheckedAt: v.now, ProfileCount: v.profileCount}
	deny := func(s agentapi.State, code string, args agentapi.ReasonArgs) agentapi.Entitlement {
		e.Entitled, e.State, e.ReasonCode, e.ReasonArgs = false, s, code, args
		return e
	}
	if len(v.missing) > 0 {
		return deny(agentapi.StateNotConfigured, agentapi.ReasonNotConfigured, agentapi.ReasonArgs{"missing": strings.Join(v.missing, ",")})
	}
	detail := func(err error) agentapi.ReasonArgs { return agentapi.ReasonArgs{"detail": fmt.Sprint(err)} }
	if v.loadErr != nil {
		if errors.Is(v.loadErr, state.ErrTampered) {
			return deny(agentapi.StateTampered, agentapi.ReasonStateTampered, detail(v.loadErr))
		}
		return deny(agentapi.StateInactive, agentapi.ReasonStateUnreadable, detail(v.loadErr))
	}
	st := v.st
	if !st.Activated() {
		switch {
		case st.Activating != nil && st.Activating.Method == state.ActivatingPassword:
			return deny(agentapi.StateInactive, agentapi.ReasonActivationInterrupted, nil)
		case st.Activating != nil && st.Activating.Method == state.ActivatingLicenseKey:
			return deny(agentapi.StateInactive, agentapi.ReasonActivationInProgress, nil)
		case st.Pending != nil:
			return deny(agentapi.StateInactive, agentapi.ReasonSignInPending,
				agentapi.ReasonArgs{"user_code": st.Pending.UserCode, "verification_uri": st.Pending.VerificationURI})
		case st.Reason != "" || st.ReasonCode != "":
			code := st.ReasonCode
			if code == "" { // a state file written before reason codes
				code = agentapi.ReasonSignInFailed
			}
			var args agentapi.ReasonArgs
			if st.Reason != "" {
				args = agentapi.ReasonArgs{"detail": st.Reason}
			}
			return deny(agentapi.StateInactive, code, args)
		default:
			return deny(agentapi.StateInactive, agentapi.ReasonNotActivated, nil)
		}
	}
	c := v.claims
	if c == nil {
		return deny(agentapi.StateInactive, agentapi.ReasonLeaseUntrusted, detail(v.leaseErr))
	}
	if c.Fingerprint != v.fingerprint {
		return deny(agentapi.StateForeign, agentapi.ReasonForeignDevice, nil)
	}
	e.Plan, e.Features, e.MaxProfiles, e.LicenseID = c.License.Plan, slices.Clone(c.License.Features), c.License.MaxProfiles, c.License.ID
	if !c.TermEndTime().IsZero() {
		e.TermEnd = timePtr(c.TermEndTime().UTC())
	}
	e.LeaseExpiry = timePtr(c.ExpiryTime().UTC())
	e.DeviceID, e.ManagementMode, e.Lease = c.DeviceID(), v.managementMode(), st.Lease
	switch {
	case v.rolledBack():
		return deny(agentapi.StateTampered, agentapi.ReasonClockRolledBack, agentapi.ReasonArgs{"now": stamp(v.now), "trusted_time": stamp(st.TrustedTime)})
	case v.overBudget():
		return deny(agentapi.StateTampered, agentapi.ReasonClockSetBackBudget,
			agentapi.ReasonArgs{"set_back": v.st.ClockSetBack.Round(time.Second).String(), "allowed": ClockTolerance.String()})
	case c.IssuedTime().After(v.now.Add(lease.MaxFutureIssue)):
		return deny(agentapi.StateTampered, agentapi.ReasonClockBehindServer, agentapi.ReasonArgs{"issued_at": stamp(c.IssuedTime()), "now": stamp(v.now)})
	case st.Suspended:
		var args agentapi.ReasonArgs
		if st.Reason != "" {
			args = agentapi.ReasonArgs{"detail": st.Reason}
		}
		code := agentapi.ReasonSuspended
		if st.ReasonCode == agentapi.ReasonDeviceSuspended {
			code, args = agentapi.ReasonDeviceSuspended, nil
		}
		return deny(agentapi.StateSuspended, code, args)
	case !c.TermEndTime().IsZero() && !v.now.Before(c.TermEndTime()):
		return deny(agentapi.StateExpired, agentapi.ReasonTermEnded, agentapi.ReasonArgs{"term_end": stamp(c.TermEndTime())})
	case v.now.Before(c.NotBeforeTime()):
		return deny(agentapi.StateInactive, agentapi.ReasonLeaseNotYetValid, agentapi.ReasonArgs{"not_before": stamp(c.NotBeforeTime())})
	case !v.now.Before(c.ExpiryTime()):
		if st.OfflineSince != nil {
			return deny(agentapi.StateExpired, agentapi.ReasonLeaseExpiredOff, agentapi.ReasonArgs{"lease_expiry": stamp(c.ExpiryTime()), "offline_since": stamp(*st.OfflineSince)})
		}
		return deny(agentapi.StateExpired, agentapi.ReasonLeaseExpired, agentapi.ReasonArgs{"lease_expiry": stamp(c.ExpiryTime())})
	case st.OfflineSince != nil:
		e.Entitled, e.State = true, agentapi.StateOffline
		e.ReasonCode, e.ReasonArgs = agentapi.ReasonOfflineGrace, agentapi.ReasonArgs{"offline_since": stamp(*st.OfflineSince), "grace_until": stamp(c.ExpiryTime())}
	default:
		e.Entitled, e.State = true, agentapi.StateActive
		e.ReasonCode, e.ReasonArgs = activeReason(c)
	}
	return e
}

// activeReason names the plan and the license term (what a person calls
// "licensed until"), not the lease expiry, which is only the offline grace.
func activeReason(c *lease.Claims) (string, agentapi.ReasonArgs) {
	if c.TermEndTime().IsZero() {
		return agentapi.ReasonLicensedNoEnd, agentapi.ReasonArgs{"plan": c.License.Plan}
	}
	return agentapi.ReasonLicensed, agentapi.ReasonArgs{"plan": c.License.Plan, "term_end": stamp(c.TermEndTime())}
}

// forFeature narrows a general entitlement to one feature. A feature the
// license does not include answers not entitled with the license's state
// and the code feature_not_in_plan.
func forFeature(general agentapi.Entitlement, feature string) agentapi.Entitlement {
	e := general
	e.Features = slices.Clone(general.Features)
	if feature == "" {
		return e
	}
	if len(feature) > 128 {
		feature = feature[:128]
	}
	e.Feature = feature
	if e.Entitled && !slices.Contains(e.Features, feature) {
		e.Entitled = false
		e.ReasonCode = agentapi.ReasonFeatureNotInPlan
		e.ReasonArgs = agentapi.ReasonArgs{"plan": e.Plan, "feature": feature}
	}
	return e
}

// reasonText renders an answer's reason in English, the language of the
// API's default answer (clients asking in another language get it rendered
// by the local API).
func (e *Engine) reasonText(ent agentapi.Entitlement) string {
	return statustext.EntitlementReason(e.en, ent, time.Local)
}

// changeInstants returns the future instants at which compute's answer can
// change without any other event: lease start and expiry, license term end,
// and the end of a pending sign-in.
func changeInstants(v view) []time.Time {
	var out []time.Time
	add := func(t time.Time) {
		if t.After(v.now) {
			out = append(out, t)
		}
	}
	if v.st.Pending != nil {
		add(v.st.Pending.ExpiresAt)
	}
	if v.mine() {
		add(v.claims.NotBeforeTime())
		add(v.claims.ExpiryTime())
		if t := v.claims.TermEndTime(); !t.IsZero() {
			add(t)
		}
	}
	return out
}
