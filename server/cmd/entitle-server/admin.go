package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	domains "github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/licenses"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/server/httpapi"
	"github.com/entitle/entitle/server/store"
)

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (a *app) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: a.loc.T("srv_migrate_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.sqliteDir(a.dsn); err != nil {
				return err
			}
			if err := store.Migrate(cmd.Context(), a.dsn); err != nil {
				return errors.New(a.loc.T("srv_err_migrate", i18n.Args{"error": err}))
			}
			if a.jsonOut {
				return a.printJSON(map[string]string{"status": "migrated"})
			}
			_, err := fmt.Fprintln(a.stdout, a.loc.T("srv_migrated", nil))
			return err
		},
	}
}

// maxPassword bounds what --password-stdin reads.
const maxPassword = 1024

func (a *app) accountCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: a.loc.T("srv_account_short", nil)}
	var email string
	var fromStdin bool
	create := &cobra.Command{
		Use:   "create",
		Short: a.loc.T("srv_account_create_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !fromStdin {
				// Passwords on the command line end up in shell history and
				// the process list.
				return errors.New(a.loc.T("srv_err_password_stdin", nil))
			}
			pw, err := readSecret(a.loc, a.stdin)
			if err != nil {
				return err
			}
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				acct, err := svc.Accounts.CreateAccount(cmd.Context(), email, pw)
				if err != nil {
					return a.failure(err)
				}
				if a.jsonOut {
					return a.printJSON(accountapi.AccountJSON{ID: acct.ID, Email: acct.Email, Created: acct.Created})
				}
				_, err = fmt.Fprintln(a.stdout, a.loc.T("srv_account_created", i18n.Args{"id": acct.ID, "email": acct.Email}))
				return err
			})
		},
	}
	create.Flags().StringVar(&email, "email", "", a.loc.T("srv_flag_email", nil))
	create.Flags().BoolVar(&fromStdin, "password-stdin", false, a.loc.T("srv_flag_password_stdin", nil))
	_ = create.MarkFlagRequired("email")
	cmd.AddCommand(create)
	return cmd
}

// readSecret reads the first line of r, bounded.
func readSecret(loc *i18n.Localizer, r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, maxPassword+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", errors.New(loc.T("srv_err_password_read", i18n.Args{"error": err}))
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case line == "":
		return "", errors.New(loc.T("srv_err_password_empty", nil))
	case len(line) > maxPassword:
		return "", errors.New(loc.T("srv_err_password_long", i18n.Args{"max": maxPassword}))
	}
	return line, nil
}

type licenseOpts struct {
	owner, plan, termStart   string
	termEnd, managementMode  string
	features                 []string
	maxProfiles, seats, days int
	subscription             bool
}

func (a *app) licenseCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "license", Short: a.loc.T("srv_license_short", nil)}
	var o licenseOpts
	create := &cobra.Command{
		Use:   "create",
		Short: a.loc.T("srv_license_create_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, err := o.spec(a.loc, time.Now())
			if err != nil {
				return err
			}
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				l, err := svc.Licenses.CreateLicense(cmd.Context(), spec)
				if err != nil {
					return a.failure(err)
				}
				if a.jsonOut {
					return a.printJSON(httpapi.LicenseView(l))
				}
				_, err = fmt.Fprintf(a.stdout, "%s\n%s\n", a.loc.T("srv_license_created", i18n.Args{"id": l.ID}), a.loc.T("srv_license_key", i18n.Args{"key": l.Key}))
				if err == nil && l.ManagementMode != licenses.ManagedNot {
					_, err = fmt.Fprintln(a.stdout, a.loc.T("srv_license_mode", i18n.Args{"mode": modeWord(a.loc, l.ManagementMode)}))
				}
				return err
			})
		},
	}
	f := create.Flags()
	f.StringVar(&o.owner, "owner", "", a.loc.T("srv_flag_owner", nil))
	f.StringVar(&o.plan, "plan", "", a.loc.T("srv_flag_plan", nil))
	f.StringSliceVar(&o.features, "features", nil, a.loc.T("srv_flag_features", nil))
	f.IntVar(&o.maxProfiles, "max-profiles", 0, a.loc.T("srv_flag_max_profiles", nil))
	f.IntVar(&o.seats, "seats", 1, a.loc.T("srv_flag_seats", nil))
	f.StringVar(&o.termStart, "term-start", "", a.loc.T("srv_flag_term_start", nil))
	f.StringVar(&o.termEnd, "term-end", "", a.loc.T("srv_flag_term_end", nil))
	f.IntVar(&o.days, "days", 0, a.loc.T("srv_flag_days", nil))
	f.BoolVar(&o.subscription, "subscription", false, a.loc.T("srv_flag_subscription", nil))
	f.StringVar(&o.managementMode, "management-mode", "", a.loc.T("srv_flag_management_mode", nil))
	_ = create.MarkFlagRequired("owner")
	_ = create.MarkFlagRequired("plan")
	create.MarkFlagsMutuallyExclusive("term-end", "days")

	list := &cobra.Command{
		Use:   "list",
		Short: a.loc.T("srv_license_list_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				ls, err := svc.Licenses.ListLicenses(cmd.Context(), "")
				if err != nil {
					return a.failure(err)
				}
				if a.jsonOut {
					out := make([]accountapi.LicenseJSON, 0, len(ls))
					for _, l := range ls {
						out = append(out, httpapi.LicenseView(l))
					}
					return a.printJSON(out)
				}
				rows := make([][]string, 0, len(ls))
				for _, l := range ls {
					end := a.loc.T("srv_term_none", nil)
					if !l.TermEnd.IsZero() {
						end = l.TermEnd.UTC().Format(time.DateOnly)
					}
					rows = append(rows, []string{l.ID, l.OwnerEmail, l.Plan.Name, a.loc.Number(l.SeatsUsed) + "/" + a.loc.Number(l.Seats), end,
						modeWord(a.loc, l.ManagementMode), l.Key})
				}
				return a.table(a.columns("srv_col_id", "srv_col_owner", "srv_col_plan", "srv_col_seats", "srv_col_term_end", "srv_col_managed", "srv_col_key"), rows)
			})
		},
	}
	cmd.AddCommand(create, list)
	return cmd
}

// spec validates the flags and builds the license spec.
func (o licenseOpts) spec(loc *i18n.Localizer, now time.Time) (licenses.LicenseSpec, error) {
	if o.seats < 1 || o.seats > 1_000_000 {
		return licenses.LicenseSpec{}, errors.New(loc.T("srv_err_seats", i18n.Args{"seats": o.seats}))
	}
	if o.maxProfiles < 0 {
		return licenses.LicenseSpec{}, errors.New(loc.T("srv_err_max_profiles", nil))
	}
	start := now.UTC()
	if o.termStart != "" {
		d, err := time.Parse(time.DateOnly, o.termStart)
		if err != nil {
			return licenses.LicenseSpec{}, errors.New(loc.T("srv_err_term_start", i18n.Args{"value": o.termStart}))
		}
		start = d
	}
	spec := licenses.LicenseSpec{
		OwnerEmail: o.owner, Seats: o.seats, TermStart: start, Subscription: o.subscription, ManagementMode: o.managementMode,
		Plan: licenses.Plan{Name: o.plan, Features: o.features, MaxProfiles: o.maxProfiles},
	}
	switch {
	case o.days < 0:
		return licenses.LicenseSpec{}, errors.New(loc.T("srv_err_days", nil))
	case o.days > 0:
		spec.TermEnd = spec.TermStart.AddDate(0, 0, o.days)
	case o.termEnd != "":
		if d, err := time.Parse(time.DateOnly, o.termEnd); err == nil {
			// A date names the last day of the term: valid through its end.
			spec.TermEnd = d.AddDate(0, 0, 1)
		} else if t, err := time.Parse(time.RFC3339, o.termEnd); err == nil {
			spec.TermEnd = t.UTC()
		} else {
			return licenses.LicenseSpec{}, errors.New(loc.T("srv_err_term_end", i18n.Args{"value": o.termEnd}))
		}
	}
	return spec, nil
}

// modeWord names a license's management mode as the seeds do: « Local et à
// distance », « Local seulement », « À distance seulement ».
func modeWord(loc *i18n.Localizer, mode string) string {
	switch mode {
	case licenses.ManagedNot:
		return loc.T("srv_mode_none", nil)
	case licenses.ManagedLocalRemote:
		return loc.T("srv_mode_local_remote", nil)
	case licenses.ManagedLocal:
		return loc.T("srv_mode_local", nil)
	case licenses.ManagedRemote:
		return loc.T("srv_mode_remote", nil)
	}
	return mode
}

// columns are a table's headers, from the catalog.
func (a *app) columns(ids ...string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = a.loc.T(id, nil)
	}
	return out
}
