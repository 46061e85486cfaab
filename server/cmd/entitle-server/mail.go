package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/mail"
	"github.com/entitle/entitle/server/store"
)

// mailOpts are serve's SMTP settings; with no host, mail waits in the outbox.
type mailOpts struct {
	host, user, password, tls, from string
	port                            int
}

func mailFlags(loc *i18n.Localizer, f *pflag.FlagSet, o *mailOpts) {
	f.StringVar(&o.host, "smtp-host", "", loc.T("srv_flag_smtp_host", nil))
	f.IntVar(&o.port, "smtp-port", 0, loc.T("srv_flag_smtp_port", nil))
	f.StringVar(&o.user, "smtp-user", "", loc.T("srv_flag_smtp_user", nil))
	f.StringVar(&o.password, "smtp-password", "", loc.T("srv_flag_smtp_password", nil))
	f.StringVar(&o.tls, "smtp-tls", mail.TLSStartTLS, loc.T("srv_flag_smtp_tls", nil))
	f.StringVar(&o.from, "smtp-from", "", loc.T("srv_flag_smtp_from", nil))
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
	cmd := &cobra.Command{Use: "mail", Short: a.loc.T("srv_mail_short", nil)}
	var state, cursor string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: a.loc.T("srv_mail_list_short", nil),
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
				rows := make([][]string, 0, len(page.Items))
				for _, r := range page.Items {
					rows = append(rows, []string{r.ID, r.Kind, r.To, r.State, a.loc.Number(r.Attempts), r.Created.UTC().Format(time.RFC3339), r.LastError})
				}
				if err := a.table(a.columns("srv_col_id", "srv_col_kind", "srv_col_to", "srv_col_state", "srv_col_attempts", "srv_col_created", "srv_col_last_error"), rows); err != nil {
					return err
				}
				if page.NextCursor != "" {
					_, err = fmt.Fprintln(a.stdout, a.loc.T("srv_next_page", i18n.Args{"cursor": page.NextCursor}))
				}
				return err
			})
		},
	}
	list.Flags().StringVar(&state, "state", "", a.loc.T("srv_flag_mail_state", nil))
	list.Flags().IntVar(&limit, "limit", 0, a.loc.T("srv_flag_mail_limit", nil))
	list.Flags().StringVar(&cursor, "cursor", "", a.loc.T("srv_flag_cursor", nil))
	retry := &cobra.Command{
		Use:   "retry ID",
		Short: a.loc.T("srv_mail_retry_short", nil),
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.journalDB(cmd.Context(), func(db *store.DB) error {
				if err := mail.Retry(cmd.Context(), db, time.Now(), "admin", args[0]); err != nil {
					return a.failure(err)
				}
				if a.jsonOut {
					return a.printJSON(map[string]string{"id": args[0], "state": mail.StatePending})
				}
				_, err := fmt.Fprintln(a.stdout, a.loc.T("srv_mail_requeued", i18n.Args{"id": args[0]}))
				return err
			})
		},
	}
	cmd.AddCommand(list, retry)
	return cmd
}
