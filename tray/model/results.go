package model

import "github.com/entitle/entitle/pkg/agentapi"

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
// error code (agentapi.Err*) or CodeNotRunning / CodeUnknown. Message is the
// agent's words; it is shown only for codes whose message is written for a
// person (forbidden, conflict), never for network or internal failures,
// whose detail is a raw error that belongs in the log.
type Outcome struct {
	Op      Op
	Code    string
	Message string
	SignIn  bool // activation: a browser sign-in was started
}

// Failed reports whether the action failed.
func (o Outcome) Failed() bool { return o.Code != "" }

// BusyText is the line shown instead of the actions while op runs.
func BusyText(op Op) string {
	switch op {
	case OpActivate:
		return "Starting sign-in…"
	case OpDeactivate:
		return "Deactivating…"
	case OpCheck:
		return "Checking…"
	}
	return "Working…"
}

// ResultText is the menu line for an outcome.
func ResultText(o Outcome) string {
	if !o.Failed() {
		switch o.Op {
		case OpActivate:
			if o.SignIn {
				return "Sign in in your browser to finish"
			}
			return "Activation started"
		case OpDeactivate:
			return "This computer was deactivated"
		case OpCheck:
			return "Checked with the licensing server"
		}
		return "Done"
	}
	prefix := map[Op]string{OpActivate: "Activation failed: ", OpDeactivate: "Deactivation failed: ", OpCheck: "Check failed: "}[o.Op]
	if prefix == "" {
		prefix = "Failed: "
	}
	return prefix + reasonText(o.Code, o.Message)
}

func reasonText(code, msg string) string {
	switch code {
	case agentapi.ErrUnavailable:
		return "the licensing server cannot be reached"
	case agentapi.ErrUpstream:
		return "the licensing server refused"
	case agentapi.ErrRateLimited:
		return "too many attempts, try again later"
	case agentapi.ErrUnauthorized:
		return "the agent refused the tray's API token"
	case CodeNotRunning:
		return "the agent is not running"
	case agentapi.ErrForbidden, agentapi.ErrConflict:
		if m := clean(msg); m != "" {
			return m
		}
		return "not allowed"
	}
	return "unexpected error (see the tray's log)"
}

func problemText(p Problem) string {
	switch p {
	case ProblemConfig:
		return "Cannot read the agent's configuration file"
	case ProblemPermission:
		return "No permission to read the agent's settings or API token"
	case ProblemUnauthorized:
		return "The agent refused the tray's API token"
	}
	return "Unexpected answer (see the tray's log)"
}

// ConfirmExpiredText is the result line when a confirmation ran out.
const ConfirmExpiredText = "Deactivation not confirmed: nothing changed"

// ConfirmNotification tells where the confirmation is once Deactivate… was
// clicked (the menu closes on that click).
func ConfirmNotification() Notification {
	return Notification{ID: NoteDeactivateConfirm, Title: "Confirm deactivation",
		Body: "Open the Entitle menu and choose Confirm deactivation ▸ Yes, deactivate within 30 seconds. Otherwise nothing changes."}
}

// DeactivationNotification reports how a deactivation asked in the tray ended.
func DeactivationNotification(o Outcome) Notification {
	if o.Failed() {
		return Notification{ID: NoteDeactivated, Title: "Deactivation failed", Body: ResultText(o) + ".", Urgent: true}
	}
	return Notification{ID: NoteDeactivated, Title: "This computer was deactivated",
		Body: "Its seat was freed from your account. Choose Activate… in the Entitle menu to use it again."}
}
