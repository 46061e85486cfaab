package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	domains "github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/commands"
	"github.com/entitle/entitle/server/devices"
	"github.com/entitle/entitle/server/push"
	"github.com/entitle/entitle/server/store"
)

// deviceCmd is the operator's `device` commands: an organization's
// computers, as its administrators see them.
func (a *app) deviceCmd() *cobra.Command {
	loc := a.localizer()
	cmd := &cobra.Command{Use: "device", Short: loc.T("device_cmd_short", nil)}
	var (
		org  string
		f    adminapi.DeviceFilter
		page paging.Request
	)
	list := &cobra.Command{
		Use: "list", Short: loc.T("device_list_short", nil), Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.Validate(); err != nil {
				return err
			}
			if err := page.Validate(); err != nil {
				return err
			}
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				p, err := svc.Devices.PageOrgDevices(cmd.Context(), org, f, page)
				if err != nil {
					return orgError(loc, err)
				}
				out := paging.Map(p, func(d devices.OrgDevice) adminapi.OrgDeviceJSON { return d.JSON(false) })
				if a.jsonOut {
					return a.printJSON(out)
				}
				rows := [][]string{}
				for _, d := range p.Items {
					rows = append(rows, []string{d.ID, d.Facts.Hostname, d.Name, d.Email, d.Status, d.LastSeen.UTC().Format(time.DateTime)})
				}
				return a.pageTable(loc, []string{loc.T("org_col_id", nil), loc.T("device_col_hostname", nil), loc.T("device_col_name", nil),
					loc.T("device_col_user", nil), loc.T("device_col_status", nil), loc.T("device_col_last_seen", nil)}, rows, p.NextCursor)
			})
		},
	}
	fl := list.Flags()
	fl.StringVar(&org, "org", "", loc.T("device_flag_org", nil))
	fl.StringVar(&f.Status, "status", "", loc.T("device_flag_status", nil))
	fl.StringVar(&f.UserEmail, "user", "", loc.T("device_flag_user", nil))
	fl.StringVar(&f.Workspace, "workspace", "", loc.T("device_flag_workspace", nil))
	fl.StringVar(&f.Plan, "plan", "", loc.T("device_flag_plan", nil))
	fl.StringVar(&f.Search, "search", "", loc.T("device_flag_search", nil))
	fl.StringVar(&f.Sort, "sort", "", loc.T("device_flag_sort", nil))
	fl.StringVar(&f.Order, "order", "", loc.T("device_flag_order", nil))
	_ = list.MarkFlagRequired("org")
	pageFlags(list, &page, loc)
	cmd.AddCommand(list)
	return cmd
}

// commandCmd is the operator's `command` commands: remote commands to an
// organization's computers, and any computer's command list.
func (a *app) commandCmd() *cobra.Command {
	loc := a.localizer()
	cmd := &cobra.Command{Use: "command", Short: loc.T("command_cmd_short", nil)}
	var (
		org, device, typ string
		args             []string
		ttl              time.Duration
	)
	send := &cobra.Command{
		Use: "send", Short: loc.T("command_send_short", nil), Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kv, err := commandArgs(loc, args)
			if err != nil {
				return err
			}
			req := accountapi.CommandRequest{Type: typ, Args: kv, TTLSeconds: int(ttl / time.Second)}
			if err := req.Validate(); err != nil {
				return err
			}
			return a.adminDB(cmd.Context(), func(db *store.DB, svc *domains.App) error {
				ctx := cmd.Context()
				if err := svc.Devices.CheckOrg(ctx, org, device); err != nil {
					return orgError(loc, err)
				}
				rec, err := svc.Commands.Enqueue(ctx, commands.Queue{DeviceID: device, Type: req.Type, Args: req.Args,
					TTL: ttl, Actor: cliOperator.Actor(), Organization: org})
				if err != nil {
					return orgError(loc, err)
				}
				// The serving instances hear the nudge over PostgreSQL (this
				// process holds no stream); on SQLite the computer learns at
				// its next check-in.
				if db.Dialect() == store.Postgres {
					if err := db.Notify(ctx, push.Channel, device); err != nil {
						fmt.Fprintln(a.stderr, loc.T("command_nudge_failed", map[string]any{"err": err.Error()}))
					}
				}
				if a.jsonOut {
					return a.printJSON(rec.JSON())
				}
				_, err = fmt.Fprintln(a.stdout, loc.T("command_sent", map[string]any{"id": rec.ID, "type": rec.Type, "status": rec.Status}))
				return err
			})
		},
	}
	sf := send.Flags()
	sf.StringVar(&org, "org", "", loc.T("device_flag_org", nil))
	sf.StringVar(&device, "device", "", loc.T("command_flag_device", nil))
	sf.StringVar(&typ, "type", "", loc.T("command_flag_type", nil))
	sf.StringArrayVar(&args, "arg", nil, loc.T("command_flag_arg", nil))
	sf.DurationVar(&ttl, "ttl", 0, loc.T("command_flag_ttl", nil))
	for _, n := range []string{"org", "device", "type"} {
		_ = send.MarkFlagRequired(n)
	}

	var page paging.Request
	var listDevice string
	list := &cobra.Command{
		Use: "list", Short: loc.T("command_list_short", nil), Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := page.Validate(); err != nil {
				return err
			}
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				p, err := svc.Commands.List(cmd.Context(), listDevice, page)
				if err != nil {
					return orgError(loc, err)
				}
				out := paging.Map(p, commands.Record.JSON)
				if a.jsonOut {
					return a.printJSON(out)
				}
				rows := [][]string{}
				for _, r := range p.Items {
					rows = append(rows, []string{r.ID, r.Type, r.Status, r.ResultCode, r.CreatedAt.UTC().Format(time.DateTime)})
				}
				return a.pageTable(loc, []string{loc.T("org_col_id", nil), loc.T("command_col_type", nil), loc.T("device_col_status", nil),
					loc.T("command_col_result", nil), loc.T("org_col_created", nil)}, rows, p.NextCursor)
			})
		},
	}
	list.Flags().StringVar(&listDevice, "device", "", loc.T("command_flag_device", nil))
	_ = list.MarkFlagRequired("device")
	pageFlags(list, &page, loc)
	cmd.AddCommand(send, list)
	return cmd
}

// commandArgs reads --arg key=value flags.
func commandArgs(loc *i18n.Localizer, args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(args))
	for _, kv := range args {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s", loc.T("command_err_arg", map[string]any{"arg": kv}))
		}
		m[k] = v
	}
	return m, nil
}
