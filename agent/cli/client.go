package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"syscall"

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
	tok, tokenErr := readToken(cfg)
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
		return nil, apiFail(err)
	}
	st, err := c.Status(cmd.Context())
	if err != nil {
		return nil, apiFail(err)
	}
	return st, nil
}

// readToken reads the API token of the agent cfg names, with errors that
// say what to do and carry the documented exit codes.
func readToken(cfg config.Config) (string, error) {
	tok, err := agentclient.ReadToken(cfg.StateDir)
	switch {
	case err == nil:
		return tok, nil
	case errors.Is(err, fs.ErrNotExist):
		return "", fail(ExitNoAgent, fmt.Errorf("no API token in %s: the agent has not run with this state folder (check --state-dir)", cfg.StateDir))
	case errors.Is(err, fs.ErrPermission):
		return "", fail(ExitError, fmt.Errorf("cannot read the API token in %s: run as an administrator or a member of the entitle group", cfg.StateDir))
	default:
		return "", fail(ExitError, err)
	}
}

// apiFail maps a local API error to an exit code.
func apiFail(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, agentclient.ErrAgentNotRunning) || errors.Is(err, syscall.ECONNREFUSED) {
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
