package main

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	domains "github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/httpapi"
	"github.com/entitle/entitle/server/subscriptions"
)

// subscriptionCmd is the operator's `subscription` commands: list the
// organizations' seat pools, suspend, resume and extend them.
func (a *app) subscriptionCmd() *cobra.Command {
	loc := a.loc
	cmd := &cobra.Command{Use: "subscription", Short: loc.T("sub_cmd_short", nil)}
	var (
		page paging.Request
		org  string
	)
	list := &cobra.Command{
		Use: "list", Short: loc.T("sub_list_short", nil), Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := page.Validate(); err != nil {
				return err
			}
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				p, err := svc.Subscriptions.List(cmd.Context(), org, page)
				if err != nil {
					return a.failure(err)
				}
				out := paging.Page[adminapi.SubscriptionJSON]{Items: []adminapi.SubscriptionJSON{}, NextCursor: p.NextCursor, Total: p.Total}
				rows := [][]string{}
				for _, x := range p.Items {
					out.Items = append(out.Items, httpapi.SubscriptionView(x))
					rows = append(rows, subscriptionRow(loc, x))
				}
				if a.jsonOut {
					return a.printJSON(out)
				}
				return a.pageTable(loc, subscriptionHeader(loc), rows, p.NextCursor)
			})
		},
	}
	pageFlags(list, &page, loc)
	list.Flags().StringVar(&org, "org", "", loc.T("sub_flag_org", nil))

	var reason string
	suspend := &cobra.Command{
		Use: "suspend SUBSCRIPTION", Short: loc.T("sub_suspend_short", nil), Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.subscriptionAction(cmd, loc, "sub_suspended", func(svc *domains.App) (subscriptions.Subscription, error) {
				return svc.Subscriptions.Suspend(cmd.Context(), cliOperator, args[0], reason)
			})
		},
	}
	suspend.Flags().StringVar(&reason, "reason", "", loc.T("sub_flag_reason", nil))
	resume := &cobra.Command{
		Use: "resume SUBSCRIPTION", Short: loc.T("sub_resume_short", nil), Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.subscriptionAction(cmd, loc, "sub_resumed", func(svc *domains.App) (subscriptions.Subscription, error) {
				return svc.Subscriptions.Resume(cmd.Context(), cliOperator, args[0])
			})
		},
	}
	var until string
	extend := &cobra.Command{
		Use: "extend SUBSCRIPTION", Short: loc.T("sub_extend_short", nil), Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			end, err := parseDay(until)
			if err != nil {
				return errors.New(loc.T("sub_err_until", i18n.Args{"value": until}))
			}
			return a.subscriptionAction(cmd, loc, "sub_extended", func(svc *domains.App) (subscriptions.Subscription, error) {
				return svc.Subscriptions.Extend(cmd.Context(), cliOperator, args[0], end)
			})
		},
	}
	extend.Flags().StringVar(&until, "until", "", loc.T("sub_flag_until", nil))
	_ = extend.MarkFlagRequired("until")
	cmd.AddCommand(list, suspend, resume, extend)
	return cmd
}

// subscriptionAction runs one lifecycle action and prints the subscription
// after it (as JSON with --json).
func (a *app) subscriptionAction(cmd *cobra.Command, loc *i18n.Localizer, done string, fn func(*domains.App) (subscriptions.Subscription, error)) error {
	return a.admin(cmd.Context(), func(svc *domains.App) error {
		x, err := fn(svc)
		if err != nil {
			return a.failure(err)
		}
		if a.jsonOut {
			return a.printJSON(httpapi.SubscriptionView(x))
		}
		if _, err := fmt.Fprintln(a.stdout, loc.T(done, map[string]any{"id": x.ID})); err != nil {
			return err
		}
		return a.table(subscriptionHeader(loc), [][]string{subscriptionRow(loc, x)})
	})
}

func subscriptionHeader(loc *i18n.Localizer) []string {
	return []string{loc.T("org_col_id", nil), loc.T("sub_col_org", nil), loc.T("sub_col_plan", nil), loc.T("sub_col_seats", nil),
		loc.T("sub_col_term_end", nil), loc.T("org_col_state", nil)}
}

func subscriptionRow(loc *i18n.Localizer, x subscriptions.Subscription) []string {
	state := loc.T("sub_state_active", nil)
	if !x.Suspended.IsZero() {
		state = loc.T("sub_state_suspended", nil)
	}
	return []string{x.ID, x.OrganizationID, x.PlanCode, strconv.Itoa(x.Assigned) + "/" + strconv.Itoa(x.Seats),
		x.TermEnd.UTC().Format("2006-01-02"), state}
}

// parseDay reads a day (2031-03-01, the start of that day in UTC) or an
// RFC 3339 time.
func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, err
	}
	return t, nil
}
