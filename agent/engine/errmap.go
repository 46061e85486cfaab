package engine

import (
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
)

// serverCode is the one table from the licensing server's error codes to the
// local API's (whose HTTP status agentapi.HTTPStatus gives): a refusal keeps
// its meaning, so an integrator tells a wrong password (401) from a server
// that is down (503) or failing (502). Documented in docs/openapi/agent.yaml
// and docs/operations.md; TestServerCodeTable covers every protocol code.
func serverCode(code string) string {
	switch code {
	case protocol.ErrInvalidRequest:
		return agentapi.ErrBadRequest // 400: the server found a field invalid
	case protocol.ErrInvalidCredentials:
		return agentapi.ErrInvalidCredentials // 401
	case protocol.ErrLicenseSuspended, protocol.ErrDeviceSuspended:
		return agentapi.ErrLicenseSuspended // 403: the license, or this computer alone, is suspended
	case protocol.ErrLicenseExpired:
		return agentapi.ErrLicenseExpired // 403
	case protocol.ErrManagedRemotely:
		return agentapi.ErrManagedRemotely // 403
	case protocol.ErrUnknownLicense:
		return agentapi.ErrUnknownLicense // 404
	case protocol.ErrNoSeats:
		return agentapi.ErrNoSeats // 409
	case protocol.ErrNoLicense:
		return agentapi.ErrNoLicense // 409
	case protocol.ErrDeviceRevoked, protocol.ErrLicenseRevoked:
		return agentapi.ErrDeviceRevoked // 410: deactivated, or its license withdrawn by the organization
	case protocol.ErrRateLimited:
		return agentapi.ErrRateLimited // 429: too many attempts (a lockout too)
	case protocol.ErrAccessDenied:
		return agentapi.ErrForbidden // 403: the sign-in was denied in the browser
	case protocol.ErrEnrollmentRefused:
		return agentapi.ErrForbidden // 403: the workspace enrollment token is revoked, expired or used up
	case protocol.ErrExpiredToken:
		return agentapi.ErrConflict // 409: the browser sign-in code expired; start again
	default:
		// internal, not_found (a wrong server URL), too_large, the polling
		// codes, an unknown code or none: the server failed.
		return agentapi.ErrUpstream // 502
	}
}
