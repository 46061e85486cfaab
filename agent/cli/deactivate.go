package cli

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/entitle/entitle/pkg/agentclient"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

func newDeactivateCmd(env Env) *cobra.Command {
	var yes, asJSON bool
	cmd := &cobra.Command{
		Use:   "deactivate",
		Short: "Release this computer's seat",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !yes {
				if env.IsTerminal == nil || !env.IsTerminal(env.Stdin) {
					return fail(ExitUsage, errors.New("stdin is not a terminal: pass --yes to deactivate"))
				}
				fmt.Fprint(env.Stdout, "Deactivate this computer? It will stop being licensed until activated again. [y/N] ")
				if !confirmed(env.Stdin) {
					fmt.Fprintln(env.Stdout, "Not deactivated.")
					return silent(ExitError)
				}
			}
			st, err := actThenStatus(cmd, env, func(c *agentclient.Client) error { return c.Deactivate(cmd.Context()) })
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, st)
			}
			fmt.Fprintln(env.Stdout, "Deactivated.", headline(st.Entitlement))
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the new status as JSON")
	return cmd
}

func confirmed(r io.Reader) bool {
	line, _ := bufio.NewReader(io.LimitReader(r, 256)).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}
