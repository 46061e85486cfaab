package main

import (
	"fmt"

	"github.com/entitle/entitle/pkg/i18n"
	domains "github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/store"
	"github.com/spf13/cobra"
)

// demoCmd seeds (once) the demo account and license and the demo
// organization, and prints their sign-ins; every run prints the same.
func (a *app) demoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: a.loc.T("srv_demo_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.adminDB(cmd.Context(), func(db *store.DB, svc *domains.App) error {
				d, err := svc.Licenses.SeedDemo(cmd.Context())
				if err != nil {
					return a.failure(err)
				}
				org, err := seedDemoOrg(cmd.Context(), db, svc)
				if err != nil {
					return a.failure(err)
				}
				if a.jsonOut {
					return a.printJSON(map[string]any{"email": d.Email, "password": d.Password, "license_key": d.LicenseKey, "seats": d.Seats,
						"organization": org})
				}
				if _, err := fmt.Fprintln(a.stdout, a.loc.T("srv_demo", i18n.Args{"email": d.Email, "password": d.Password, "key": d.LicenseKey,
					"seats": a.loc.Plural("srv_seats", d.Seats, nil)})); err != nil {
					return err
				}
				return a.printDemoOrg(org)
			})
		},
	}
}

// printDemoOrg prints the demo organization's sign-ins.
func (a *app) printDemoOrg(org demoOrg) error {
	if _, err := fmt.Fprintln(a.stdout, a.loc.T("srv_demo_org", i18n.Args{"org": org.Name, "email": org.Admin.Email,
		"password": org.Admin.Password, "workspaces": len(org.Workspaces)})); err != nil {
		return err
	}
	for _, m := range org.Members {
		key := "srv_demo_member"
		if m.Seat {
			key = "srv_demo_member_seat"
		}
		if _, err := fmt.Fprintln(a.stdout, a.loc.T(key, i18n.Args{"email": m.Email, "password": m.Password})); err != nil {
			return err
		}
	}
	return nil
}
