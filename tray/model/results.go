package model

import (
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/statustext"
)

// Op is an action the tray runs against the agent.
type Op string

// Ops.
const (
	OpActivate   Op = "activate"
	OpDeactivate Op = "deactivate"
	OpCheck      Op = "check"
)

// CodeNotRunning is the Outcome code for "the agent is not running";
// CodeUnknown is for an error that carries no local API code.
const (
	CodeNotRunning = "agent_not_running"
	CodeUnknown    = "unknown"
)

// Outcome is how an action ended: Code is "" on success, else a local API
// error code (agentapi.Err*) or CodeNotRunning / CodeUnknown, with its Args.
// Message is the agent's English words, for the log: the menu words the code.
type Outcome struct {
	Op      Op
	Code    string
	Args    map[string]string
	Message string
	SignIn  bool // activation: a browser sign-in was started
}

// Failed reports whether the action failed.
func (o Outcome) Failed() bool { return o.Code != "" }

// BusyText is the line shown instead of the actions while op runs.
func BusyText(loc *i18n.Localizer, op Op) string {
	switch op {
	case OpActivate:
		return loc.T("tray_busy_activate", nil)
	case OpDeactivate:
		return loc.T("tray_busy_deactivate", nil)
	case OpCheck:
		return loc.T("tray_busy_check", nil)
	}
	return loc.T("tray_busy", nil)
}

// failedIDs word a failed action.
var failedIDs = map[Op]string{OpActivate: "tray_failed_activate", OpDeactivate: "tray_failed_deactivate", OpCheck: "tray_failed_check"}

// ResultText is the menu line for an outcome.
func ResultText(loc *i18n.Localizer, o Outcome) string {
	if !o.Failed() {
		switch o.Op {
		case OpActivate:
			if o.SignIn {
				return loc.T("tray_result_signin", nil)
			}
			return loc.T("tray_result_activation_started", nil)
		case OpDeactivate:
			return loc.T("tray_deactivated", nil)
		case OpCheck:
			return loc.T("tray_result_checked", nil)
		}
		return loc.T("tray_result_done", nil)
	}
	id, ok := failedIDs[o.Op]
	if !ok {
		id = "tray_failed"
	}
	return loc.T(id, i18n.Args{"reason": reasonText(loc, o.Code, o.Args)})
}

func reasonText(loc *i18n.Localizer, code string, args map[string]string) string {
	switch code {
	case agentapi.ErrUnavailable:
		return loc.T("tray_err_unavailable", nil)
	case agentapi.ErrUpstream:
		return loc.T("tray_err_upstream", nil)
	case agentapi.ErrRateLimited:
		return loc.T("tray_err_rate_limited", nil)
	case agentapi.ErrUnauthorized:
		return loc.T("tray_err_unauthorized", nil)
	case CodeNotRunning:
		return loc.T("tray_err_not_running", nil)
	case agentapi.ErrManagedRemotely:
		return statustext.DeactivateNote(loc, &agentapi.Status{DeactivateNoteCode: agentapi.NoteManagedRemotely, Organization: clean(args["organization"])})
	case agentapi.ErrForbidden:
		return loc.T("tray_err_not_allowed", nil)
	case agentapi.ErrConflict:
		return statustext.ErrorText(loc, code)
	}
	return loc.T("tray_err_unexpected", nil)
}

func problemText(loc *i18n.Localizer, p Problem) string {
	switch p {
	case ProblemConfig:
		return loc.T("tray_problem_config", nil)
	case ProblemPermission:
		return loc.T("tray_problem_permission", nil)
	case ProblemUnauthorized:
		return loc.T("tray_problem_unauthorized", nil)
	}
	return loc.T("tray_problem_other", nil)
}

// ConfirmExpiredText is the result line when a confirmation ran out.
func ConfirmExpiredText(loc *i18n.Localizer) string { return loc.T("tray_confirm_expired", nil) }

// ConfirmNotification tells where the confirmation is once Deactivate… was
// clicked (the menu closes on that click).
func ConfirmNotification(loc *i18n.Localizer) Notification {
	return Notification{ID: NoteDeactivateConfirm, Title: loc.T("tray_deactivate_confirm", nil),
		Body: loc.T("tray_note_confirm_body", i18n.Args{"confirm": loc.T("tray_deactivate_confirm", nil), "yes": loc.T("tray_deactivate_yes", nil)})}
}

// DeactivationNotification reports how a deactivation asked in the tray ended.
func DeactivationNotification(loc *i18n.Localizer, o Outcome) Notification {
	if o.Failed() {
		return Notification{ID: NoteDeactivated, Title: loc.T("tray_note_deactivation_failed_title", nil),
			Body: loc.T("tray_sentence", i18n.Args{"text": ResultText(loc, o)}), Urgent: true}
	}
	return deactivatedNote(loc, false)
}
