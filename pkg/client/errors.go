package client

import (
	"errors"
	"fmt"

	"github.com/entitle/entitle/pkg/agentapi"
)

// ErrAgentUnavailable means the agent could not be asked: it is not running,
// or it answered with an error or something unreadable. Not entitled.
var ErrAgentUnavailable = errors.New("the Entitle agent is not available")

// ErrNotEntitled means the agent says this computer is not entitled.
type ErrNotEntitled struct {
	State      agentapi.State
	Reason     string              // for a person, in Options.Language
	ReasonCode string              // stable code to switch on (docs/reason-codes.md), e.g. feature_not_in_plan
	ReasonArgs agentapi.ReasonArgs // the code's arguments
	Feature    string              // the feature asked for, if any
}

func (e *ErrNotEntitled) Error() string {
	what := "this computer is not entitled"
	if e.Feature != "" {
		what += " to " + e.Feature
	}
	return fmt.Sprintf("%s (%s): %s", what, e.State, e.Reason)
}

// ErrLeaseInvalid means the agent claimed an entitlement that its lease does
// not prove: missing, forged, for another computer or product, expired, or
// disagreeing with the answer. Errors of pkg/lease are reachable with
// errors.Is through Unwrap.
type ErrLeaseInvalid struct {
	Cause error
}

func (e *ErrLeaseInvalid) Error() string {
	return "the entitlement could not be verified: " + e.Cause.Error()
}

// Unwrap returns the cause.
func (e *ErrLeaseInvalid) Unwrap() error { return e.Cause }
