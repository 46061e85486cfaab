package engine

import (
	"strings"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
)

// problem is the last thing that went wrong in the agent's own work, as
// Status reports it: a stable code (agentapi.Problem*) and its arguments for
// clients to word, and the English sentence for logs. The zero value is no
// problem.
type problem struct {
	code string
	args map[string]string
	msg  string
}

// failure is the problem code caused by ae: its local API error code is the
// "error" argument.
func failure(code string, ae *agentapi.Error, msg string) problem {
	return problem{code: code, args: map[string]string{"error": ae.Code}, msg: msg}
}

// enrollTokenKind is the kind argument of ProblemEnrollmentTokenInvalid:
// what the configured token looks like it was meant to be.
func enrollTokenKind(token string) string {
	if strings.HasPrefix(strings.TrimSpace(token), protocol.EnrollmentTokenPrefix) {
		return "workspace_token"
	}
	return "license_key"
}
