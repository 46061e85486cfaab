package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/agentclient"
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
	tok, tokenErr := agentclient.ReadToken(cfg.StateDir)
	if tokenErr != nil {
		switch {
		case errors.Is(tokenErr, fs.ErrNotExist):
			tokenErr = fail(ExitNoAgent, fmt.Errorf("no API token in %s: the agent has not run with this state folder (check --state-dir)", cfg.StateDir))
		case errors.Is(tokenErr, fs.ErrPermission):
			tokenErr = fail(ExitError, fmt.Errorf("cannot read the API token in %s: run as an administrator or a member of the entitle group", cfg.StateDir))
		default:
			tokenErr = fail(ExitError, tokenErr)
		}
	}
	c, err = agentclient.New(agentclient.Options{BaseURL: "http://" + cfg.Listen, Token: tok})
	if err != nil {
		return nil, cfg, nil, fail(ExitError, err)
	}
	return c, cfg, tokenErr, nil
}

// apiFail maps a local API error to an exit code.
func apiFail(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, agentclient.ErrAgentNotRunning) {
		return fail(ExitNoAgent, errors.New("the agent is not running (start it with 'entitle service start')"))
	}
	var ae *agentapi.Error
	if errors.As(err, &ae) {
		return fail(ExitError, errors.New(ae.Message))
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
