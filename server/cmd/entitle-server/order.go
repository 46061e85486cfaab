package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/pkg/paging"
	domains "github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/httpapi"
)

// orderCmd is the operator's `order` commands: every organization's
// orders and the recording of payments.
func (a *app) orderCmd() *cobra.Command {
	loc := a.localizer()
	cmd := &cobra.Command{Use: "order", Short: loc.T("order_cmd_short", nil)}
	var (
		page   paging.Request
		status string
	)
	list := &cobra.Command{
		Use: "list", Short: loc.T("order_list_short", nil), Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := page.Validate(); err != nil {
				return err
			}
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				p, err := svc.Orders.ListAll(cmd.Context(), status, page)
				if err != nil {
					return orgError(loc, err)
				}
				if a.jsonOut {
					return a.printJSON(paging.Map(p, httpapi.OrderView))
				}
				rows := [][]string{}
				for _, o := range p.Items {
					rows = append(rows, []string{o.ID, o.OrganizationID, o.Status, o.InvoiceNumber, loc.Money(o.TotalCents, o.Currency), o.Created.UTC().Format("2006-01-02")})
				}
				return a.pageTable(loc, []string{loc.T("org_col_id", nil), loc.T("order_col_org", nil), loc.T("order_col_status", nil),
					loc.T("order_col_invoice", nil), loc.T("order_col_total", nil), loc.T("org_col_created", nil)}, rows, p.NextCursor)
			})
		},
	}
	pageFlags(list, &page, loc)
	list.Flags().StringVar(&status, "status", "", loc.T("order_flag_status", nil))

	show := &cobra.Command{
		Use: "show ORDER", Short: loc.T("order_show_short", nil), Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				o, err := svc.Orders.Get(cmd.Context(), "", args[0])
				if err != nil {
					return orgError(loc, err)
				}
				if a.jsonOut {
					return a.printJSON(httpapi.OrderView(o))
				}
				if err := a.table([]string{loc.T("org_col_id", nil), loc.T("order_col_org", nil), loc.T("order_col_status", nil),
					loc.T("order_col_invoice", nil), loc.T("order_col_total", nil)},
					[][]string{{o.ID, o.OrganizationID, o.Status, o.InvoiceNumber, loc.Money(o.TotalCents, o.Currency)}}); err != nil {
					return err
				}
				if _, err := fmt.Fprintln(a.stdout); err != nil {
					return err
				}
				rows := [][]string{}
				for _, l := range o.Lines {
					rows = append(rows, []string{l.PlanCode, loc.Number(l.Quantity), loc.Money(l.UnitPriceCents, o.Currency), loc.Money(l.AmountCents(), o.Currency), l.SubscriptionID})
				}
				return a.table([]string{loc.T("order_col_plan", nil), loc.T("order_col_quantity", nil), loc.T("order_col_unit", nil),
					loc.T("order_col_total", nil), loc.T("order_col_subscription", nil)}, rows)
			})
		},
	}

	var reference string
	pay := &cobra.Command{
		Use: "pay ORDER", Short: loc.T("order_pay_short", nil), Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				o, err := svc.Orders.Pay(cmd.Context(), cliOperator.Actor(), args[0], reference)
				if err != nil {
					return orgError(loc, err)
				}
				if a.jsonOut {
					return a.printJSON(httpapi.OrderView(o))
				}
				_, err = fmt.Fprintln(a.stdout, loc.T("order_paid", map[string]any{"id": o.ID, "invoice": o.InvoiceNumber}))
				return err
			})
		},
	}
	pay.Flags().StringVar(&reference, "reference", "", loc.T("order_flag_reference", nil))
	_ = pay.MarkFlagRequired("reference")
	cmd.AddCommand(list, show, pay)
	return cmd
}
