package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/pkg/adminapi"
	domains "github.com/entitle/entitle/server/app"
)

// operatorCmd is `operator token create|list|revoke`: the bearer tokens of
// the operator API (/v1/operator/..., and every organization's routes).
func (a *app) operatorCmd() *cobra.Command {
	loc := a.loc
	cmd := &cobra.Command{Use: "operator", Short: loc.T("org_operator_short", nil)}
	token := &cobra.Command{Use: "token", Short: loc.T("org_token_short", nil)}
	var name string
	create := &cobra.Command{
		Use: "create", Short: loc.T("org_token_create_short", nil), Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				t, secret, err := svc.Organizations.CreateOperatorToken(cmd.Context(), cliOperator.Actor(), name)
				if err != nil {
					return a.failure(err)
				}
				if a.jsonOut {
					v := tokenJSON(t)
					v.Token = secret
					return a.printJSON(v)
				}
				_, err = fmt.Fprintf(a.stdout, "%s\n%s\n", loc.T("org_token_created", map[string]any{"id": t.ID}), secret)
				return err
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", loc.T("org_flag_token_name", nil))
	_ = create.MarkFlagRequired("name")
	list := &cobra.Command{
		Use: "list", Short: loc.T("org_token_list_short", nil), Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				ts, err := svc.Organizations.OperatorTokens(cmd.Context())
				if err != nil {
					return err
				}
				out := []adminapi.OperatorTokenJSON{}
				rows := [][]string{}
				for _, t := range ts {
					out = append(out, tokenJSON(t))
					state := loc.T("org_token_active", nil)
					if !t.RevokedAt.IsZero() {
						state = loc.T("org_token_revoked", nil)
					}
					rows = append(rows, []string{t.ID, t.Name, t.Created.UTC().Format("2006-01-02"), state})
				}
				if a.jsonOut {
					return a.printJSON(out)
				}
				return a.table([]string{loc.T("org_col_id", nil), loc.T("org_col_name", nil), loc.T("org_col_created", nil), loc.T("org_col_state", nil)}, rows)
			})
		},
	}
	revoke := &cobra.Command{
		Use: "revoke ID", Short: loc.T("org_token_revoke_short", nil), Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				if err := svc.Organizations.RevokeOperatorToken(cmd.Context(), cliOperator.Actor(), args[0]); err != nil {
					return a.failure(err)
				}
				if a.jsonOut {
					return a.printJSON(map[string]string{"id": args[0], "status": "revoked"})
				}
				_, err := fmt.Fprintln(a.stdout, loc.T("org_token_revoked_msg", map[string]any{"id": args[0]}))
				return err
			})
		},
	}
	token.AddCommand(create, list, revoke)
	cmd.AddCommand(token, a.operatorAccountCmd("grant", "srv_operator_grant_short", "srv_operator_granted", "granted",
		func(svc *domains.App) func(context.Context, string, string) (string, error) {
			return svc.Organizations.GrantOperator
		}),
		a.operatorAccountCmd("revoke", "srv_operator_revoke_short", "srv_operator_revoked", "revoked",
			func(svc *domains.App) func(context.Context, string, string) (string, error) {
				return svc.Organizations.RevokeOperator
			}))
	return cmd
}

// operatorAccountCmd is `operator grant EMAIL` or `operator revoke EMAIL`:
// who may sign in to the web console's operator pages.
func (a *app) operatorAccountCmd(use, short, done, status string,
	fn func(*domains.App) func(ctx context.Context, actor, email string) (string, error)) *cobra.Command {
	loc := a.loc
	return &cobra.Command{
		Use: use + " EMAIL", Short: loc.T(short, nil), Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				id, err := fn(svc)(cmd.Context(), cliOperator.Actor(), args[0])
				if err != nil {
					return a.failure(err)
				}
				if a.jsonOut {
					return a.printJSON(map[string]string{"account_id": id, "email": args[0], "status": status})
				}
				_, err = fmt.Fprintln(a.stdout, loc.T(done, map[string]any{"email": args[0]}))
				return err
			})
		},
	}
}
