package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/statustext"
)

func newStatusCmd(env Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: env.loc.T("cli_status_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, tokErr, err := connect(cmd, env)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var st *agentapi.Status
			if tokErr == nil {
				st, err = c.Status(ctx)
			} else {
				// Without the token, the public entitlement answer still tells.
				var ent *agentapi.Entitlement
				if ent, err = c.Entitlement(ctx, ""); err == nil {
					st = &agentapi.Status{Entitlement: *ent}
				}
			}
			if err != nil {
				return apiFail(env.loc, err)
			}
			if asJSON {
				if err := writeJSON(env.Stdout, st); err != nil {
					return err
				}
			} else {
				printStatus(env.Stdout, env.loc, st, tokErr == nil)
			}
			if !st.Entitlement.Entitled {
				return silent(ExitNotEntitled)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, env.loc.T("cli_flag_json", nil))
	return cmd
}

// headline is the one-line summary, e.g. "Active — Pro plan, licensed until
// March 1, 2027" (pkg/statustext, shared with the tray).
func headline(loc *i18n.Localizer, e agentapi.Entitlement) string {
	return statustext.Headline(loc, e, time.Local)
}

func printStatus(w io.Writer, loc *i18n.Localizer, st *agentapi.Status, full bool) {
	fmt.Fprintln(w, headline(loc, st.Entitlement))
	if !full {
		fmt.Fprintln(w, loc.T("cli_status_needs_token", nil))
		return
	}
	for _, line := range statustext.Details(loc, st, time.Local) {
		fmt.Fprintln(w, line)
	}
}
