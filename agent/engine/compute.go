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
	"github.com/entitle/entitle/pkg/protocol"
)

// ForeignReason is the entitlement reason on a computer holding a copy of
// another computer's activation.
const ForeignReason = "not entitled: this activation belongs to another computer"

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
// view, same answer.
func compute(v view) agentapi.Entitlement {
	e := agentapi.Entitlement{CheckedAt: v.now, ProfileCount: v.profileCount}
	deny := func(s agentapi.State, format string, args ...any) agentapi.Entitlement {
		e.Entitled, e.State, e.Reason = false, s, "not entitled: "+fmt.Sprintf(format, args...)
		return e
	}
	if len(v.missing) > 0 {
		return deny(agentapi.StateNotConfigured, "%s", notConfiguredReason(v.missing))
	}
	if v.loadErr != nil {
		if errors.Is(v.loadErr, state.ErrTampered) {
			return deny(agentapi.StateTampered, "%v", v.loadErr)
		}
		return deny(agentapi.StateInactive, "%v", v.loadErr)
	}
	st := v.st
	if !st.Activated() {
		switch {
		case st.Activating != nil && st.Activating.Method == state.ActivatingPassword:
			return deny(agentapi.StateInactive, "an activation by email and password was interrupted before its answer was saved; activate again (the seat it may have taken is reused, not a second one)")
		case st.Activating != nil && st.Activating.Method == state.ActivatingLicenseKey:
			return deny(agentapi.StateInactive, "an activation is in progress (the agent finishes an interrupted one by itself)")
		case st.Pending != nil:
			return deny(agentapi.StateInactive, "waiting for the browser sign-in: enter the code %s at %s", st.Pending.UserCode, st.Pending.VerificationURI)
		case st.Reason != "":
			return deny(agentapi.StateInactive, "%s", st.Reason)
		default:
			return deny(agentapi.StateInactive, "this computer is not activated")
		}
	}
	c := v.claims
	if c == nil {
		return deny(agentapi.StateInactive, "the stored lease cannot be trusted (%v); check the pinned server keys or activate again", v.leaseErr)
	}
	if c.Fingerprint != v.fingerprint {
		e.Entitled, e.State, e.Reason = false, agentapi.StateForeign, ForeignReason
		return e
	}
	e.Plan, e.Features, e.MaxProfiles, e.LicenseID = c.License.Plan, slices.Clone(c.License.Features), c.License.MaxProfiles, c.License.ID
	if !c.TermEndTime().IsZero() {
		e.TermEnd = timePtr(c.TermEndTime().UTC())
	}
	e.LeaseExpiry = timePtr(c.ExpiryTime().UTC())
	e.DeviceID, e.ManagementMode, e.Lease = c.DeviceID(), v.managementMode(), st.Lease
	switch {
	case v.rolledBack():
		return deny(agentapi.StateTampered, "the system clock was set back (it reads %s, but %s was already seen); correct the clock: the agent recovers at its next successful check-in",
			stamp(v.now), stamp(st.TrustedTime))
	case v.overBudget():
		return deny(agentapi.StateTampered, "the system clock was set back by %s in total since the last check-in, more than the %s allowed; correct the clock: the agent recovers at its next successful check-in",
			v.st.ClockSetBack.Round(time.Second), ClockTolerance)
	case c.IssuedTime().After(v.now.Add(lease.MaxFutureIssue)):
		return deny(agentapi.StateTampered, "the system clock is behind the licensing server's (lease issued %s, clock reads %s); correct the clock", stamp(c.IssuedTime()), stamp(v.now))
	case st.Suspended:
		reason := st.Reason
		if reason == "" {
			reason = "the license is suspended"
		}
		return deny(agentapi.StateSuspended, "%s", reason)
	case !c.TermEndTime().IsZero() && !v.now.Before(c.TermEndTime()):
		return deny(agentapi.StateExpired, "the license term ended %s", stamp(c.TermEndTime()))
	case v.now.Before(c.NotBeforeTime()):
		return deny(agentapi.StateInactive, "the lease is not valid before %s", stamp(c.NotBeforeTime()))
	case !v.now.Before(c.ExpiryTime()):
		if st.OfflineSince != nil {
			return deny(agentapi.StateExpired, "the lease expired %s; the licensing server has been unreachable since %s", stamp(c.ExpiryTime()), stamp(*st.OfflineSince))
		}
		return deny(agentapi.StateExpired, "the lease expired %s; the agent renews it at its next check-in", stamp(c.ExpiryTime()))
	case st.OfflineSince != nil:
		e.Entitled, e.State = true, agentapi.StateOffline
		e.Reason = fmt.Sprintf("offline since %s, grace until %s", stamp(*st.OfflineSince), stamp(c.ExpiryTime()))
	default:
		e.Entitled, e.State = true, agentapi.StateActive
		e.Reason = activeReason(c)
	}
	return e
}

// notConfiguredReason says what is missing and where to set it.
func notConfiguredReason(missing []string) string {
	return fmt.Sprintf("this agent is not configured: %s missing; set them in agent.toml, the ENTITLE_* environment or the flags, "+
		"then restart the agent (pinned keys: run `entitle-server keys show` on the server, or read its JWK set at GET <server_url>%s)",
		strings.Join(missing, " and "), protocol.PathKeys)
}

// activeReason names the plan and the license term (what a person calls
// "licensed until"), not the lease expiry, which is only the offline grace.
func activeReason(c *lease.Claims) string {
	if c.TermEndTime().IsZero() {
		return fmt.Sprintf("%s plan, licensed with no end date", c.License.Plan)
	}
	return fmt.Sprintf("%s plan, licensed until %s", c.License.Plan, stamp(c.TermEndTime()))
}

// forFeature narrows a general entitlement to one feature.
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
		e.Reason = fmt.Sprintf("not entitled: the %q license does not include the feature %q", e.Plan, feature)
	}
	return e
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
