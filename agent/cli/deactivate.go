package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/pkg/agentclient"
	"github.com/entitle/entitle/pkg/i18n"
)

func newDeactivateCmd(env Env) *cobra.Command {
	var yes, asJSON bool
	loc := env.loc
	cmd := &cobra.Command{
		Use:   "deactivate",
		Short: loc.T("cli_deactivate_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !yes && (env.IsTerminal == nil || !env.IsTerminal(env.Stdin)) {
				return fail(ExitUsage, errors.New(loc.T("cli_deactivate_needs_terminal", nil)))
			}
			// Say why not before asking, in the reader's words (the agent
			// would refuse with its English message).
			if err := deactivateAllowed(cmd, env); err != nil {
				return err
			}
			if !yes {
				fmt.Fprint(env.Stdout, loc.T("cli_deactivate_prompt", nil))
				if !confirmed(loc, env.Stdin) {
					// Saying no is an answer, not a failure.
					fmt.Fprintln(env.Stdout, loc.T("cli_deactivate_cancelled", nil))
					return nil
				}
			}
			st, err := actThenStatus(cmd, env, func(c *agentclient.Client) error { return c.Deactivate(cmd.Context()) })
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, st)
			}
			fmt.Fprintln(env.Stdout, loc.T("cli_deactivated", i18n.Args{"status": headline(loc, st.Entitlement)}))
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, loc.T("cli_flag_yes", nil))
	cmd.Flags().BoolVar(&asJSON, "json", false, loc.T("cli_flag_deactivate_json", nil))
	return cmd
}

// deactivateAllowed checks the agent's status: nothing to deactivate, or a
// computer its organization manages remotely, is refused with the reason.
func deactivateAllowed(cmd *cobra.Command, env Env) error {
	c, _, tokErr, err := connect(cmd, env)
	if err != nil {
		return err
	}
	if tokErr != nil {
		return tokErr
	}
	st, err := c.Status(cmd.Context())
	if err != nil {
		return apiFail(env.loc, err)
	}
	switch {
	case st.DeactivateOK:
		return nil
	case st.Activated && st.Organization != "":
		return fail(ExitError, errors.New(env.loc.T("cli_deactivate_managed", i18n.Args{"organization": st.Organization})))
	case st.Activated:
		return fail(ExitError, errors.New(env.loc.T("cli_deactivate_managed_unnamed", nil)))
	default:
		return fail(ExitError, errors.New(env.loc.T("cli_deactivate_not_activated", nil)))
	}
}

// confirmed reads one answer line and reports whether it is a yes in the
// reader's language (cli_yes_answers: "y", "yes"; in French also "o", "oui").
func confirmed(loc *i18n.Localizer, r io.Reader) bool {
	line, _ := bufio.NewReader(io.LimitReader(r, 256)).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	for _, yes := range strings.Split(loc.T("cli_yes_answers", nil), "|") {
		if a != "" && a == yes {
			return true
		}
	}
	return false
}
