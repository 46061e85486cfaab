package cli

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/agentclient"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/statustext"
)

// connect loads the configuration and returns a client of the agent it names
// (listen address and the token file in the state folder). A missing or
// unreadable token is returned as tokenErr, so commands that can work without
// the token (status) still can.
func connect(cmd *cobra.Command, env Env) (c *agentclient.Client, cfg config.Config, tokenErr error, err error) {
	cfg, err = loadConfig(cmd, env)
	if err != nil {
		return nil, cfg, nil, err
	}
	tok, tokenErr := readToken(env.loc, cfg)
	c, err = agentclient.New(agentclient.Options{BaseURL: "http://" + cfg.Listen, Token: tok})
	if err != nil {
		return nil, cfg, nil, fail(ExitError, err)
	}
	return c, cfg, tokenErr, nil
}

// actThenStatus runs act against the agent cfg names (the API token is
// required), then fetches the resulting status for the caller to print.
func actThenStatus(cmd *cobra.Command, env Env, act func(*agentclient.Client) error) (*agentapi.Status, error) {
	c, _, tokErr, err := connect(cmd, env)
	if err != nil {
		return nil, err
	}
	if tokErr != nil {
		return nil, tokErr
	}
	if err := act(c); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return nil, err
		}
		return nil, apiFail(env.loc, err)
	}
	st, err := c.Status(cmd.Context())
	if err != nil {
		return nil, apiFail(env.loc, err)
	}
	return st, nil
}

// readToken reads the API token of the agent cfg names, with errors that
// say what to do and carry the documented exit codes.
func readToken(loc *i18n.Localizer, cfg config.Config) (string, error) {
	tok, err := agentclient.ReadToken(cfg.StateDir)
	switch {
	case err == nil:
		return tok, nil
	case errors.Is(err, fs.ErrNotExist):
		return "", fail(ExitNoAgent, errors.New(loc.T("cli_no_token", i18n.Args{"dir": cfg.StateDir})))
	case errors.Is(err, fs.ErrPermission):
		return "", fail(ExitError, errors.New(loc.T("cli_token_denied", i18n.Args{"dir": cfg.StateDir})))
	default:
		return "", fail(ExitError, err)
	}
}

// apiErrorIDs are the catalog messages of the local API's error codes; the
// agent's English message is their detail.
var apiErrorIDs = map[string]string{
	agentapi.ErrBadRequest: "cli_api_bad_request", agentapi.ErrUnauthorized: "cli_api_unauthorized",
	agentapi.ErrForbidden: "cli_api_forbidden", agentapi.ErrNotFound: "cli_api_not_found",
	agentapi.ErrConflict: "cli_api_conflict", agentapi.ErrTooLarge: "cli_api_too_large",
	agentapi.ErrRateLimited: "cli_api_rate_limited", agentapi.ErrUpstream: "cli_api_server_error",
	agentapi.ErrInternalError:    "cli_api_internal",
	agentapi.ErrMethodNotAllowed: "cli_api_bad_request",
}

// refusals are the licensing server's refusals that the agent passes on
// with their own code: the sentence is made here, in the reader's language
// (pkg/statustext, shared with the tray), and says "the licensing server
// refused" around it.
var refusals = map[string]bool{
	agentapi.ErrInvalidCredentials: true, agentapi.ErrLicenseSuspended: true, agentapi.ErrLicenseExpired: true,
	agentapi.ErrManagedRemotely: true, agentapi.ErrUnknownLicense: true, agentapi.ErrNoSeats: true,
	agentapi.ErrNoLicense: true, agentapi.ErrDeviceRevoked: true,
}

// apiFail maps a local API error to an exit code and the reader's words:
// the code chooses the sentence, the agent's message is its detail.
func apiFail(loc *i18n.Localizer, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, agentclient.ErrAgentNotRunning) || errors.Is(err, syscall.ECONNREFUSED) {
		return fail(ExitNoAgent, errors.New(loc.T("cli_agent_not_running", nil)))
	}
	var ae *agentapi.Error
	if errors.As(err, &ae) {
		if org := ae.Args["organization"]; ae.Code == agentapi.ErrManagedRemotely && org != "" {
			return fail(ExitError, errors.New(loc.T("cli_managed_by", i18n.Args{"organization": org})))
		}
		if refusals[ae.Code] {
			return fail(ExitError, errors.New(loc.T("cli_api_server_error", i18n.Args{"message": statustext.ErrorText(loc, ae.Code)})))
		}
		if ae.Code == agentapi.ErrUnavailable {
			// The agent's message is a raw network error, for the log.
			if u := ae.Args["server_url"]; u != "" {
				return fail(ExitError, errors.New(loc.T("cli_api_unavailable", i18n.Args{"server_url": u})))
			}
			return fail(ExitError, errors.New(statustext.ErrorText(loc, ae.Code)))
		}
		if ae.Code == agentapi.ErrNotConfigured {
			return fail(ExitError, errors.New(loc.T("cli_api_not_configured", nil)))
		}
		id, ok := apiErrorIDs[ae.Code]
		if !ok {
			id = "cli_api_internal"
		}
		return fail(ExitError, errors.New(loc.T(id, i18n.Args{"message": ae.Message})))
	}
	return fail(ExitError, err)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fail(ExitError, err)
	}
	return nil
}
