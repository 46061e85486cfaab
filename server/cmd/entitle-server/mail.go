package main

import (
	"context"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/mail"
	"github.com/entitle/entitle/server/store"
)

// mailOpts are serve's SMTP settings; with no host, mail waits in the outbox.
type mailOpts struct {
	host, user, password, tls, from string
	port                            int
}

func mailFlags(f *pflag.FlagSet, o *mailOpts) {
	f.StringVar(&o.host, "smtp-host", "", "SMTP relay host; empty: mail stays in the outbox (see entitle-server mail list)")
	f.IntVar(&o.port, "smtp-port", 0, "SMTP relay port (default 587, 465 with --smtp-tls tls)")
	f.StringVar(&o.user, "smtp-user", "", "SMTP user name (empty: no authentication)")
	f.StringVar(&o.password, "smtp-password", "", "SMTP password (prefer the ENTITLE_SERVER_SMTP_PASSWORD environment variable)")
	f.StringVar(&o.tls, "smtp-tls", mail.TLSStartTLS, "SMTP TLS mode: starttls, tls, opportunistic or none")
	f.StringVar(&o.from, "smtp-from", "", `From address of the server's mail, e.g. "Entitle <no-reply@example.com>"`)
}

// startMail starts the outbox worker when SMTP is configured; the returned
// stop cancels it and waits for it to end.
func startMail(ctx context.Context, o mailOpts, db *store.DB, logger *slog.Logger) (stop func(), err error) {
	if o.host == "" {
		logger.Warn("no SMTP relay configured (--smtp-host): mail waits in the outbox")
		return func() {}, nil
	}
	cfg := mail.SMTPConfig{Host: o.host, Port: o.port, Username: o.user, Password: o.password, TLS: o.tls, From: o.from}
	sender, err := mail.NewSMTPSender(cfg)
	if err != nil {
		return nil, err
	}
	w, err := mail.NewWorker(db, sender, mail.WorkerConfig{Logger: logger, Domain: cfg.FromDomain()})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Run(ctx) // returns nil when ctx ends
	}()
	logger.Info("mail worker started", "smtp_host", o.host, "smtp_tls", o.tls)
	return func() { cancel(); <-done }, nil
}

func (a *app) mailCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "mail", Short: "Inspect and requeue the mail outbox"}
	var state, cursor string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List the outbox, oldest first (--state pending|sent|failed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.journalDB(cmd.Context(), func(db *store.DB) error {
				page, err := mail.List(cmd.Context(), db, paging.Request{Limit: limit, Cursor: cursor}, state)
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(page)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tKIND\tTO\tSTATE\tATTEMPTS\tCREATED\tLAST ERROR")
				for _, r := range page.Items {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.Kind, r.To, r.State, r.Attempts, r.Created.UTC().Format(time.RFC3339), r.LastError)
				}
				if page.NextCursor != "" {
					fmt.Fprintf(tw, "next page: --cursor %s\n", page.NextCursor)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&state, "state", "", "only mail in this state: pending, sent or failed")
	list.Flags().IntVar(&limit, "limit", 0, "rows per page (default 50, at most 500)")
	list.Flags().StringVar(&cursor, "cursor", "", "the next_cursor of the previous page")
	retry := &cobra.Command{
		Use:   "retry ID",
		Short: "Requeue a failed mail for an immediate attempt",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.journalDB(cmd.Context(), func(db *store.DB) error {
				if err := mail.Retry(cmd.Context(), db, time.Now(), "admin", args[0]); err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(map[string]string{"id": args[0], "state": mail.StatePending})
				}
				_, err := fmt.Fprintf(a.stdout, "mail %s requeued\n", args[0])
				return err
			})
		},
	}
	cmd.AddCommand(list, retry)
	return cmd
}
