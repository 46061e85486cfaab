package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	domains "github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/licenses"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/pkg/accountapi"
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
		Short: "Bring the database schema up to date (serve also does this on start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := sqliteDir(a.dsn); err != nil {
				return err
			}
			if err := store.Migrate(cmd.Context(), a.dsn); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			if a.jsonOut {
				return a.printJSON(map[string]string{"status": "migrated"})
			}
			_, err := fmt.Fprintln(a.stdout, "database is up to date")
			return err
		},
	}
}

// maxPassword bounds what --password-stdin reads.
const maxPassword = 1024

func (a *app) accountCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: "Manage customer accounts"}
	var email string
	var fromStdin bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an account (the password is read from standard input)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !fromStdin {
				// Passwords on the command line end up in shell history and
				// the process list.
				return errors.New("account create: give the password on standard input with --password-stdin")
			}
			pw, err := readSecret(a.stdin)
			if err != nil {
				return err
			}
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				acct, err := svc.Accounts.CreateAccount(cmd.Context(), email, pw)
				if err != nil {
					return fmt.Errorf("create account: %w", err)
				}
				if a.jsonOut {
					return a.printJSON(accountapi.AccountJSON{ID: acct.ID, Email: acct.Email, Created: acct.Created})
				}
				_, err = fmt.Fprintf(a.stdout, "account %s created for %s\n", acct.ID, acct.Email)
				return err
			})
		},
	}
	create.Flags().StringVar(&email, "email", "", "email address (the sign-in name)")
	create.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	_ = create.MarkFlagRequired("email")
	cmd.AddCommand(create)
	return cmd
}

// readSecret reads the first line of r, bounded.
func readSecret(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, maxPassword+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case line == "":
		return "", errors.New("read password: standard input is empty")
	case len(line) > maxPassword:
		return "", fmt.Errorf("read password: longer than %d bytes", maxPassword)
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
	cmd := &cobra.Command{Use: "license", Short: "Manage licenses"}
	var o licenseOpts
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a license for an account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, err := o.spec(time.Now())
			if err != nil {
				return err
			}
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				l, err := svc.Licenses.CreateLicense(cmd.Context(), spec)
				if err != nil {
					return fmt.Errorf("create license: %w", err)
				}
				if a.jsonOut {
					return a.printJSON(httpapi.LicenseView(l))
				}
				_, err = fmt.Fprintf(a.stdout, "license %s created\nkey: %s\n", l.ID, l.Key)
				if err == nil && l.ManagementMode != licenses.ManagedNot {
					_, err = fmt.Fprintf(a.stdout, "management mode: %s\n", l.ManagementMode)
				}
				return err
			})
		},
	}
	f := create.Flags()
	f.StringVar(&o.owner, "owner", "", "email of the owning account")
	f.StringVar(&o.plan, "plan", "", "plan name")
	f.StringSliceVar(&o.features, "features", nil, "comma-separated feature names")
	f.IntVar(&o.maxProfiles, "max-profiles", 0, "maximum signature profiles (0: no limit)")
	f.IntVar(&o.seats, "seats", 1, "number of computers that may be active at once")
	f.StringVar(&o.termStart, "term-start", "", "first day of the term (YYYY-MM-DD, UTC; default now)")
	f.StringVar(&o.termEnd, "term-end", "", "last day of the term (YYYY-MM-DD, UTC) or an RFC 3339 time")
	f.IntVar(&o.days, "days", 0, "term length in days from now (instead of --term-end)")
	f.BoolVar(&o.subscription, "subscription", false, "the license renews (a subscription)")
	f.StringVar(&o.managementMode, "management-mode", "", "how the organization manages the license's computers: "+
		"local_remote (the person and the administrator), local (the person only) or remote (the administrator only: "+
		"a computer cannot deactivate itself); empty: not managed")
	_ = create.MarkFlagRequired("owner")
	_ = create.MarkFlagRequired("plan")
	create.MarkFlagsMutuallyExclusive("term-end", "days")

	list := &cobra.Command{
		Use:   "list",
		Short: "List all licenses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				ls, err := svc.Licenses.ListLicenses(cmd.Context(), "")
				if err != nil {
					return fmt.Errorf("list licenses: %w", err)
				}
				if a.jsonOut {
					out := make([]accountapi.LicenseJSON, 0, len(ls))
					for _, l := range ls {
						out = append(out, httpapi.LicenseView(l))
					}
					return a.printJSON(out)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tOWNER\tPLAN\tSEATS\tTERM END\tMANAGED\tKEY")
				for _, l := range ls {
					end := "none"
					if !l.TermEnd.IsZero() {
						end = l.TermEnd.UTC().Format(time.DateOnly)
					}
					mode := l.ManagementMode
					if mode == licenses.ManagedNot {
						mode = "no"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", l.ID, l.OwnerEmail, l.Plan.Name, l.SeatsUsed, l.Seats, end, mode, l.Key)
				}
				return tw.Flush()
			})
		},
	}
	cmd.AddCommand(create, list)
	return cmd
}

// spec validates the flags and builds the license spec.
func (o licenseOpts) spec(now time.Time) (licenses.LicenseSpec, error) {
	if o.seats < 1 || o.seats > 1_000_000 {
		return licenses.LicenseSpec{}, fmt.Errorf("--seats must be between 1 and 1000000, not %d", o.seats)
	}
	if o.maxProfiles < 0 {
		return licenses.LicenseSpec{}, errors.New("--max-profiles must not be negative")
	}
	start := now.UTC()
	if o.termStart != "" {
		d, err := time.Parse(time.DateOnly, o.termStart)
		if err != nil {
			return licenses.LicenseSpec{}, fmt.Errorf("--term-start %q: want YYYY-MM-DD", o.termStart)
		}
		start = d
	}
	spec := licenses.LicenseSpec{
		OwnerEmail: o.owner, Seats: o.seats, TermStart: start, Subscription: o.subscription, ManagementMode: o.managementMode,
		Plan: licenses.Plan{Name: o.plan, Features: o.features, MaxProfiles: o.maxProfiles},
	}
	switch {
	case o.days < 0:
		return licenses.LicenseSpec{}, errors.New("--days must not be negative")
	case o.days > 0:
		spec.TermEnd = spec.TermStart.AddDate(0, 0, o.days)
	case o.termEnd != "":
		if d, err := time.Parse(time.DateOnly, o.termEnd); err == nil {
			// A date names the last day of the term: valid through its end.
			spec.TermEnd = d.AddDate(0, 0, 1)
		} else if t, err := time.Parse(time.RFC3339, o.termEnd); err == nil {
			spec.TermEnd = t.UTC()
		} else {
			return licenses.LicenseSpec{}, fmt.Errorf("--term-end %q: want YYYY-MM-DD or an RFC 3339 time", o.termEnd)
		}
	}
	return spec, nil
}
