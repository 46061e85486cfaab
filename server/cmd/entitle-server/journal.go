package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// journalOpts are the filters of journal list and export.
type journalOpts struct {
	org, account, actor, action string
	since, until, cursor        string
	limit                       int
	format, output              string
}

func (o *journalOpts) flags(cmd *cobra.Command, loc *i18n.Localizer, page bool) {
	f := cmd.Flags()
	f.StringVar(&o.org, "org", "", loc.T("srv_flag_journal_org", nil))
	f.StringVar(&o.account, "account", "", loc.T("srv_flag_journal_account", nil))
	f.StringVar(&o.actor, "actor", "", loc.T("srv_flag_journal_actor", nil))
	f.StringVar(&o.action, "action", "", loc.T("srv_flag_journal_action", nil))
	f.StringVar(&o.since, "since", "", loc.T("srv_flag_journal_since", nil))
	f.StringVar(&o.until, "until", "", loc.T("srv_flag_journal_until", nil))
	if page {
		f.IntVar(&o.limit, "limit", paging.DefaultLimit, loc.T("srv_flag_journal_limit", nil))
		f.StringVar(&o.cursor, "cursor", "", loc.T("org_flag_cursor", nil))
	}
}

// filter builds the journal filter; --org given (even empty) selects one
// chain, otherwise every organization's.
func (o *journalOpts) filter(cmd *cobra.Command, a *app) (journal.Filter, error) {
	loc := a.loc
	q := accountapi.JournalQuery{Account: o.account, Actor: o.actor, Action: o.action, Page: paging.Request{Limit: o.limit, Cursor: o.cursor}}
	for _, t := range []struct {
		flag string
		in   string
		dst  *time.Time
	}{{"--since", o.since, &q.Since}, {"--until", o.until, &q.Until}} {
		if t.in == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339, t.in)
		if err != nil {
			return journal.Filter{}, errors.New(loc.T("journal_bad_time", i18n.Args{"flag": t.flag}))
		}
		*t.dst = at
	}
	if err := q.Validate(); err != nil {
		return journal.Filter{}, a.failure(err)
	}
	f := journal.FilterOf(q)
	f.Organization = o.org
	f.AnyOrganization = !cmd.Flags().Changed("org")
	return f, nil
}

// journalDB opens the database alone: the journal commands read it and need
// none of the domains.
func (a *app) journalDB(ctx context.Context, fn func(*store.DB) error) error {
	logger, err := a.logger(slog.LevelWarn)
	if err != nil {
		return err
	}
	if err := a.sqliteDir(a.dsn); err != nil {
		return err
	}
	db, err := store.Open(ctx, a.dsn, logger)
	if err != nil {
		return errors.New(a.loc.T("srv_err_open_database", i18n.Args{"error": err}))
	}
	defer db.Close()
	return fn(db)
}

func (a *app) journalCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "journal",
		Short: a.loc.T("srv_journal_short", nil),
	}
	cmd.AddCommand(a.journalVerifyCmd(), a.journalListCmd(), a.journalExportCmd())
	return cmd
}

func orgName(loc *i18n.Localizer, org string) string {
	if org == "" {
		return loc.T("journal_chain_personal", nil)
	}
	return org
}

func breakText(loc *i18n.Localizer, kind string) string {
	switch kind {
	case journal.BreakEdited:
		return loc.T("journal_break_edited", nil)
	case journal.BreakDeleted:
		return loc.T("journal_break_deleted", nil)
	case journal.BreakInserted:
		return loc.T("journal_break_inserted", nil)
	case journal.BreakTruncated:
		return loc.T("journal_break_truncated", nil)
	}
	return loc.T("journal_break_head", nil)
}

func (a *app) journalVerifyCmd() *cobra.Command {
	var org string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: a.loc.T("srv_journal_verify_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			loc := a.loc
			return a.journalDB(cmd.Context(), func(db *store.DB) error {
				var orgs []string
				if cmd.Flags().Changed("org") {
					orgs = []string{org}
				}
				reps, err := journal.Verify(cmd.Context(), db, orgs)
				if err != nil {
					return err
				}
				broken := 0
				for _, r := range reps {
					if !r.OK() {
						broken++
					}
				}
				if a.jsonOut {
					if err := a.printJSON(map[string]any{"ok": broken == 0, "chains": reps}); err != nil {
						return err
					}
				} else if err := printVerify(a.stdout, loc, reps); err != nil {
					return err
				}
				if broken > 0 {
					return errors.New(loc.Plural("journal_verify_failed", broken, nil))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&org, "org", "", a.loc.T("srv_flag_journal_verify_org", nil))
	return cmd
}

func printVerify(w io.Writer, loc *i18n.Localizer, reps []journal.ChainReport) error {
	if len(reps) == 0 {
		_, err := fmt.Fprintln(w, loc.T("journal_verify_empty", nil))
		return err
	}
	for _, r := range reps {
		var line string
		if r.OK() {
			line = loc.Plural("journal_chain_ok", int(r.Rows), i18n.Args{"org": orgName(loc, r.Organization), "hash": r.HeadHash})
		} else {
			line = loc.T("journal_chain_broken", i18n.Args{"org": orgName(loc, r.Organization), "seq": r.Break.Seq, "reason": breakText(loc, r.Break.Kind)})
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

func (a *app) journalListCmd() *cobra.Command {
	var o journalOpts
	cmd := &cobra.Command{
		Use:   "list",
		Short: a.loc.T("srv_journal_list_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			loc := a.loc
			f, err := o.filter(cmd, a)
			if err != nil {
				return err
			}
			return a.journalDB(cmd.Context(), func(db *store.DB) error {
				p, err := journal.List(cmd.Context(), db, f)
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(journal.PageView(p))
				}
				return printList(a.stdout, loc, p)
			})
		},
	}
	o.flags(cmd, a.loc, true)
	return cmd
}

func printList(w io.Writer, loc *i18n.Localizer, p paging.Page[journal.Row]) error {
	if len(p.Items) == 0 {
		_, err := fmt.Fprintln(w, loc.T("journal_list_empty", nil))
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", loc.T("journal_col_time", nil), loc.T("journal_col_org", nil), loc.T("journal_col_actor", nil),
		loc.T("journal_col_action", nil), loc.T("journal_col_target", nil), loc.T("journal_col_ip", nil))
	for _, r := range p.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", loc.DateTime(r.At), orgName(loc, r.Organization), r.Actor, r.Action, r.Target, r.IP)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(w, loc.Plural("journal_list_total", int(p.Total), nil)); err != nil {
		return err
	}
	if p.NextCursor != "" {
		_, err := fmt.Fprintln(w, loc.T("journal_list_more", i18n.Args{"cursor": p.NextCursor}))
		return err
	}
	return nil
}

func (a *app) journalExportCmd() *cobra.Command {
	var o journalOpts
	cmd := &cobra.Command{
		Use:   "export",
		Short: a.loc.T("srv_journal_export_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			loc := a.loc
			if o.format != "csv" {
				return errors.New(loc.T("journal_bad_format", i18n.Args{"format": o.format}))
			}
			f, err := o.filter(cmd, a)
			if err != nil {
				return err
			}
			return a.journalDB(cmd.Context(), func(db *store.DB) error {
				if o.output == "" || o.output == "-" {
					return exportCSV(cmd.Context(), db, f, a.stdout)
				}
				file, err := os.OpenFile(o.output, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
				if err != nil {
					return errors.New(loc.T("srv_err_export", i18n.Args{"error": err}))
				}
				if err := exportCSV(cmd.Context(), db, f, file); err != nil {
					file.Close()
					return err
				}
				return file.Close()
			})
		},
	}
	o.flags(cmd, a.loc, false)
	cmd.Flags().StringVar(&o.format, "format", "csv", a.loc.T("srv_flag_journal_format", nil))
	cmd.Flags().StringVar(&o.output, "output", "", a.loc.T("srv_flag_journal_output", nil))
	return cmd
}

func exportCSV(ctx context.Context, db *store.DB, f journal.Filter, w io.Writer) error {
	cw := journal.NewCSVWriter(w)
	if err := journal.Each(ctx, db, f, cw.Write); err != nil {
		return err
	}
	return cw.Flush()
}
