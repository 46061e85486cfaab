package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	domains "github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/httpapi"
)

// planCmd is the operator's `plan` commands: the catalog.
func (a *app) planCmd() *cobra.Command {
	loc := a.localizer()
	cmd := &cobra.Command{Use: "plan", Short: loc.T("plan_cmd_short", nil)}
	var c adminapi.CreatePlanRequest
	create := &cobra.Command{
		Use: "create", Short: loc.T("plan_create_short", nil), Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				p, err := svc.Plans.Create(cmd.Context(), cliOperator.Actor(), c)
				if err != nil {
					return orgError(loc, err)
				}
				if a.jsonOut {
					return a.printJSON(httpapi.PlanView(p))
				}
				_, err = fmt.Fprintln(a.stdout, loc.T("plan_created", map[string]any{"id": p.ID, "code": p.Code}))
				return err
			})
		},
	}
	fl := create.Flags()
	fl.StringVar(&c.Code, "code", "", loc.T("plan_flag_code", nil))
	fl.StringVar(&c.Name, "name", "", loc.T("plan_flag_name", nil))
	fl.StringArrayVar(&c.Features, "feature", nil, loc.T("plan_flag_feature", nil))
	fl.IntVar(&c.MaxProfiles, "max-profiles", 0, loc.T("plan_flag_max_profiles", nil))
	fl.IntVar(&c.DevicesPerSeat, "devices-per-seat", 1, loc.T("plan_flag_devices", nil))
	fl.IntVar(&c.TermMonths, "term-months", 12, loc.T("plan_flag_term", nil))
	fl.Int64Var(&c.SeatPriceCents, "price-cents", 0, loc.T("plan_flag_price", nil))
	fl.StringVar(&c.Currency, "currency", "EUR", loc.T("plan_flag_currency", nil))
	_ = create.MarkFlagRequired("code")
	_ = create.MarkFlagRequired("name")

	var page paging.Request
	list := &cobra.Command{
		Use: "list", Short: loc.T("plan_list_short", nil), Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := page.Validate(); err != nil {
				return err
			}
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				p, err := svc.Plans.List(cmd.Context(), false, page)
				if err != nil {
					return orgError(loc, err)
				}
				if a.jsonOut {
					return a.printJSON(paging.Map(p, httpapi.PlanView))
				}
				rows := [][]string{}
				for _, pl := range p.Items {
					rows = append(rows, []string{pl.ID, pl.Code, pl.Name, loc.Money(pl.SeatPriceCents, pl.Currency), strconv.Itoa(pl.TermMonths), yesNo(loc, pl.Active)})
				}
				return a.pageTable(loc, []string{loc.T("org_col_id", nil), loc.T("plan_col_code", nil), loc.T("org_col_name", nil),
					loc.T("plan_col_price", nil), loc.T("plan_col_term", nil), loc.T("plan_col_active", nil)}, rows, p.NextCursor)
			})
		},
	}
	pageFlags(list, &page, loc)

	var (
		u                       adminapi.UpdatePlanRequest
		name, currency          string
		features                []string
		maxProfiles, devs, term int
		price                   int64
		active                  bool
	)
	update := &cobra.Command{
		Use: "update PLAN", Short: loc.T("plan_update_short", nil), Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			set := func(flag string, apply func()) {
				if f.Changed(flag) {
					apply()
				}
			}
			set("name", func() { u.Name = &name })
			set("feature", func() { u.Features = &features })
			set("max-profiles", func() { u.MaxProfiles = &maxProfiles })
			set("devices-per-seat", func() { u.DevicesPerSeat = &devs })
			set("term-months", func() { u.TermMonths = &term })
			set("price-cents", func() { u.SeatPriceCents = &price })
			set("currency", func() { u.Currency = &currency })
			set("active", func() { u.Active = &active })
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				p, err := svc.Plans.Update(cmd.Context(), cliOperator.Actor(), args[0], u)
				if err != nil {
					return orgError(loc, err)
				}
				if a.jsonOut {
					return a.printJSON(httpapi.PlanView(p))
				}
				_, err = fmt.Fprintln(a.stdout, loc.T("plan_updated", map[string]any{"id": p.ID}))
				return err
			})
		},
	}
	fu := update.Flags()
	fu.StringVar(&name, "name", "", loc.T("plan_flag_name", nil))
	fu.StringArrayVar(&features, "feature", nil, loc.T("plan_flag_feature", nil))
	fu.IntVar(&maxProfiles, "max-profiles", 0, loc.T("plan_flag_max_profiles", nil))
	fu.IntVar(&devs, "devices-per-seat", 1, loc.T("plan_flag_devices", nil))
	fu.IntVar(&term, "term-months", 12, loc.T("plan_flag_term", nil))
	fu.Int64Var(&price, "price-cents", 0, loc.T("plan_flag_price", nil))
	fu.StringVar(&currency, "currency", "EUR", loc.T("plan_flag_currency", nil))
	fu.BoolVar(&active, "active", true, loc.T("plan_flag_active", nil))
	cmd.AddCommand(create, list, update)
	return cmd
}

func yesNo(loc *i18n.Localizer, b bool) string {
	if b {
		return loc.T("plan_yes", nil)
	}
	return loc.T("plan_no", nil)
}
