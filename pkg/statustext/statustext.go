// Package statustext turns the agent's answers (pkg/agentapi: states, reason
// codes and their arguments) into the words a person reads, in the language
// of a pkg/i18n Localizer. The CLI and the tray both call it, so each state
// has one name and each reason one sentence, in English and in French.
//
// Everything here is a plain function of its inputs: no I/O, no clock (the
// caller passes times in the location it wants them shown).
package statustext

import (
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
)

// titleIDs names each state once, for every client.
var titleIDs = map[agentapi.State]string{
	agentapi.StateActive:        "state_active",
	agentapi.StateOffline:       "state_offline",
	agentapi.StateExpired:       "state_expired",
	agentapi.StateInactive:      "state_inactive",
	agentapi.StateSuspended:     "state_suspended",
	agentapi.StateTampered:      "state_tampered",
	agentapi.StateForeign:       "state_foreign",
	agentapi.StateNotConfigured: "state_not_configured",
}

// Title is the name of a state: "Active", "Actif"... An unknown state (a
// newer agent) shows as its code.
func Title(loc *i18n.Localizer, s agentapi.State) string {
	if id, ok := titleIDs[s]; ok {
		return loc.T(id, nil)
	}
	return string(s)
}

// reasonIDs maps each reason code to its catalog message.
var reasonIDs = map[string]string{
	agentapi.ReasonLicensed:              "reason_licensed",
	agentapi.ReasonLicensedNoEnd:         "reason_licensed_no_end",
	agentapi.ReasonOfflineGrace:          "reason_offline_grace",
	agentapi.ReasonNotActivated:          "reason_not_activated",
	agentapi.ReasonSignInPending:         "reason_signin_pending",
	agentapi.ReasonSignInDenied:          "reason_signin_denied",
	agentapi.ReasonSignInExpired:         "reason_signin_expired",
	agentapi.ReasonSignInFailed:          "reason_signin_failed",
	agentapi.ReasonDeactivatedRemote:     "reason_deactivated_remotely",
	agentapi.ReasonLicenseRevoked:        "reason_license_revoked",
	agentapi.ReasonStateUnreadable:       "reason_state_unreadable",
	agentapi.ReasonLeaseUntrusted:        "reason_lease_untrusted",
	agentapi.ReasonLeaseNotYetValid:      "reason_lease_not_yet_valid",
	agentapi.ReasonForeignDevice:         "reason_foreign_device",
	agentapi.ReasonStateTampered:         "reason_state_tampered",
	agentapi.ReasonClockRolledBack:       "reason_clock_rolled_back",
	agentapi.ReasonClockBehindServer:     "reason_clock_behind_server",
	agentapi.ReasonSuspended:             "reason_license_suspended",
	agentapi.ReasonDeviceSuspended:       "reason_device_suspended",
	agentapi.ReasonTermEnded:             "reason_license_term_ended",
	agentapi.ReasonLeaseExpired:          "reason_lease_expired",
	agentapi.ReasonLeaseExpiredOff:       "reason_lease_expired_offline",
	agentapi.ReasonNotConfigured:         "reason_not_configured",
	agentapi.ReasonActivationInterrupted: "reason_activation_interrupted",
	agentapi.ReasonActivationInProgress:  "reason_activation_in_progress",
	agentapi.ReasonClockSetBackBudget:    "reason_clock_setback_budget",
	agentapi.ReasonFeatureNotInPlan:      "reason_feature_not_in_plan",
}

// dateOnly are the time arguments shown as a date; other RFC 3339 arguments
// show as date and time.
var dateOnly = map[string]bool{"term_end": true, "lease_expiry": true, "grace_until": true}

// Reason renders a reason code and its arguments: RFC 3339 arguments become
// dates (or date and time) for the locale, in loc's time zone tz (nil: the
// process's local zone); a plan name gets its capital. An unknown code gives
// fallback (the text the agent sent, if any).
func Reason(loc *i18n.Localizer, code string, args agentapi.ReasonArgs, tz *time.Location, fallback string) string {
	id, ok := reasonIDs[code]
	if !ok {
		return fallback
	}
	if tz == nil {
		tz = time.Local
	}
	data := i18n.Args{}
	for k, v := range args {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			t = t.In(tz)
			if dateOnly[k] {
				data[k] = loc.Date(t)
			} else {
				data[k] = loc.DateTime(t)
			}
			continue
		}
		data[k] = v
	}
	if p, ok := data["plan"].(string); ok {
		data["plan"] = PlanName(p)
	}
	text := loc.T(id, data)
	if d, _ := data["detail"].(string); d != "" && (code == agentapi.ReasonDeactivatedRemote || code == agentapi.ReasonLicenseRevoked || code == agentapi.ReasonSuspended) {
		text = loc.T("reason_with_detail", i18n.Args{"reason": text, "detail": d})
	}
	return text
}

// PlanName is a plan as people read it: "pro" gives "Pro".
func PlanName(p string) string {
	if p == "" {
		return ""
	}
	return strings.ToUpper(p[:1]) + p[1:]
}

// EntitlementReason renders the reason of an entitlement answer from its
// code, falling back to the agent's text for codes this client does not know.
func EntitlementReason(loc *i18n.Localizer, e agentapi.Entitlement, tz *time.Location) string {
	return Reason(loc, e.ReasonCode, e.ReasonArgs, tz, e.Reason)
}

// Headline is the one-line summary of an entitlement: "Active — Pro plan,
// licensed until March 1, 2027", "Actif — formule Pro, licence valable
// jusqu'au 1er mars 2027", "Not activated — this computer is not activated".
//
// Offline, it names the license's term and, apart, how long the computer
// stays licensed without the server: "Offline — Pro plan, licensed until
// March 1, 2027; works offline until December 9, 2026 at 3:04 PM".
func Headline(loc *i18n.Localizer, e agentapi.Entitlement, tz *time.Location) string {
	if tz == nil {
		tz = time.Local
	}
	title := Title(loc, e.State)
	if e.State == agentapi.StateOffline && e.Entitled && e.LeaseExpiry != nil {
		license := Reason(loc, agentapi.ReasonLicensedNoEnd, agentapi.ReasonArgs{"plan": e.Plan}, tz, "")
		if e.TermEnd != nil {
			license = Reason(loc, agentapi.ReasonLicensed, agentapi.ReasonArgs{"plan": e.Plan, "term_end": e.TermEnd.UTC().Format(time.RFC3339)}, tz, "")
		}
		return loc.T("headline_offline", i18n.Args{"title": title, "license": license, "until": loc.DateTime(e.LeaseExpiry.In(tz))})
	}
	reason := EntitlementReason(loc, e, tz)
	if reason == "" {
		return title
	}
	return loc.T("headline", i18n.Args{"title": title, "reason": reason})
}
