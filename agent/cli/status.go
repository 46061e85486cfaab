package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/pkg/agentapi"
)

func newStatusCmd(env Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether this computer is entitled (exit code 3 when not)",
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
				return apiFail(err)
			}
			if asJSON {
				if err := writeJSON(env.Stdout, st); err != nil {
					return err
				}
			} else {
				printStatus(env.Stdout, st, tokErr == nil)
			}
			if !st.Entitlement.Entitled {
				return silent(ExitNotEntitled)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

var stateTitles = map[agentapi.State]string{
	agentapi.StateActive:    "Active",
	agentapi.StateOffline:   "Offline",
	agentapi.StateExpired:   "Expired",
	agentapi.StateInactive:  "Not activated",
	agentapi.StateSuspended: "Suspended",
	agentapi.StateTampered:  "Tampered",
	agentapi.StateForeign:   "Activated on another computer",
	// The words of the not_configured state are also in the engine's reason
	// (pkg/i18n will own both).
	agentapi.StateNotConfigured: "Not configured",
}

func day(t time.Time) string  { return t.Local().Format("2006-01-02") }
func when(t time.Time) string { return t.Local().Format("2006-01-02 15:04") }

// headline is the one-line summary, e.g. "Active — Pro plan, licensed until 2027-03-01".
func headline(e agentapi.Entitlement) string {
	title, ok := stateTitles[e.State]
	if !ok {
		title = string(e.State)
	}
	var parts []string
	if e.Plan != "" {
		parts = append(parts, strings.ToUpper(e.Plan[:1])+e.Plan[1:]+" plan")
	}
	switch {
	case e.Entitled && e.TermEnd != nil:
		parts = append(parts, "licensed until "+day(*e.TermEnd))
	case e.Entitled && e.LeaseExpiry != nil:
		parts = append(parts, "licensed until "+day(*e.LeaseExpiry))
	case !e.Entitled && e.Reason != "":
		parts = append(parts, e.Reason)
	}
	if len(parts) == 0 {
		return title
	}
	return title + " — " + strings.Join(parts, ", ")
}

func printStatus(w io.Writer, st *agentapi.Status, full bool) {
	fmt.Fprintln(w, headline(st.Entitlement))
	if !full {
		fmt.Fprintln(w, "(details need the API token: run as an administrator or a member of the entitle group)")
		return
	}
	if st.Account != "" || st.Organization != "" {
		acct := st.Account
		if st.Organization != "" {
			acct = strings.TrimSpace(acct + " (" + st.Organization + ")")
		}
		fmt.Fprintln(w, "Account:", acct)
	}
	if st.OfflineSince != nil {
		line := "Offline since " + when(*st.OfflineSince)
		if st.GraceUntil != nil {
			line += ", grace until " + when(*st.GraceUntil)
		}
		fmt.Fprintln(w, line)
	}
	if st.LastCheckin != nil {
		fmt.Fprintln(w, "Last check-in:", when(*st.LastCheckin))
	}
	if p := st.Pending; p != nil {
		fmt.Fprintf(w, "Sign-in pending: open %s and enter %s (until %s)\n", p.VerificationURI, p.UserCode, when(p.ExpiresAt))
	}
	if p := st.Profiles; p != nil {
		line := fmt.Sprintf("Profiles: %d", p.Count)
		if p.Default != "" {
			line += fmt.Sprintf(" (default %q)", p.Default)
		}
		for _, n := range []struct {
			n    int
			what string
		}{{p.Expiring, "expiring"}, {p.Expired, "expired"}, {p.Invalid, "invalid"}, {p.Unlicensed, "unlicensed"}} {
			if n.n > 0 {
				line += fmt.Sprintf(", %d %s", n.n, n.what)
			}
		}
		fmt.Fprintln(w, line)
	}
	if len(st.MissingConfig) > 0 {
		fmt.Fprintln(w, "Missing settings:", strings.Join(st.MissingConfig, ", "), "(see `entitle config show`)")
	}
	if st.LastError != "" {
		fmt.Fprintln(w, "Last error:", st.LastError)
	}
	if st.HelpURL != "" {
		fmt.Fprintln(w, "Help:", st.HelpURL)
	}
}
