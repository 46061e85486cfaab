package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/agent/localapi"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/agentclient"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/licensekey"
)

type activateOptions struct {
	licenseKey    string
	email         string
	passwordStdin bool
	noBrowser     bool
	asJSON        bool
}

func newActivateCmd(env Env) *cobra.Command {
	var o activateOptions
	loc := env.loc
	cmd := &cobra.Command{
		Use:   "activate",
		Short: loc.T("cli_activate_short", nil),
		Long:  loc.T("cli_activate_long", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := activateRequest(o, env)
			if err != nil {
				return err
			}
			c, _, tokErr, err := connect(cmd, env)
			if err != nil {
				return err
			}
			if tokErr != nil {
				return tokErr
			}
			ctx := cmd.Context()
			// Already activated: say so in the reader's words, with the
			// current status, before the agent refuses in English.
			if cur, err := c.Status(ctx); err != nil {
				return apiFail(loc, err)
			} else if cur.Activated && cur.Entitlement.ManagementMode == "remote" && cur.Organization != "" {
				// Remote only: activation changes are the administrator's.
				return fail(ExitError, errors.New(loc.T("cli_managed_by", i18n.Args{"organization": cur.Organization})))
			} else if cur.Activated && cur.Entitlement.State != agentapi.StateForeign {
				return fail(ExitError, errors.New(loc.T("cli_activate_already", i18n.Args{"status": headline(loc, cur.Entitlement)})))
			}
			resp, err := c.Activate(ctx, req)
			if err != nil {
				return apiFail(loc, err)
			}
			st := &resp.Status
			if req.Method == agentapi.ActivateBrowser {
				pending := resp.Pending
				if pending == nil {
					pending = resp.Status.Pending
				}
				if pending != nil {
					announce(ctx, env, pending, o)
					if st, err = waitSignIn(ctx, env, c, pending); err != nil {
						return err
					}
				}
			}
			if o.asJSON {
				if err := writeJSON(env.Stdout, st); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(env.Stdout, headline(loc, st.Entitlement))
			}
			if !st.Entitlement.Entitled {
				return fail(ExitError, errors.New(loc.T("cli_activate_incomplete", nil)))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.licenseKey, "license-key", "", loc.T("cli_flag_license_key", nil))
	f.StringVar(&o.email, "email", "", loc.T("cli_flag_email", nil))
	f.BoolVar(&o.passwordStdin, "password-stdin", false, loc.T("cli_flag_password_stdin", nil))
	f.BoolVar(&o.noBrowser, "no-browser", false, loc.T("cli_flag_no_browser", nil))
	f.BoolVar(&o.asJSON, "json", false, loc.T("cli_flag_activate_json", nil))
	return cmd
}

// activateRequest builds the request the flags ask for. With --email the
// password is read from stdin (--password-stdin) or asked at the terminal.
func activateRequest(o activateOptions, env Env) (agentapi.ActivateRequest, error) {
	loc := env.loc
	switch {
	case o.licenseKey != "" && (o.email != "" || o.passwordStdin):
		return agentapi.ActivateRequest{}, fail(ExitUsage, errors.New(loc.T("cli_activate_key_or_email", nil)))
	case o.licenseKey != "":
		// Checked here, so the error names the flag and a typo is caught
		// before the server is asked; every form pkg/licensekey accepts
		// (spaces, hyphens, lower case) works.
		key, err := licensekey.Normalize(strings.TrimSpace(o.licenseKey))
		switch {
		case errors.Is(err, licensekey.ErrCheck):
			return agentapi.ActivateRequest{}, fail(ExitUsage, errors.New(loc.T("cli_bad_license_key_typo", nil)))
		case err != nil:
			return agentapi.ActivateRequest{}, fail(ExitUsage, errors.New(loc.T("cli_bad_license_key", nil)))
		}
		return agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: licensekey.Format(key)}, nil
	case o.passwordStdin && o.email == "":
		return agentapi.ActivateRequest{}, fail(ExitUsage, errors.New(loc.T("cli_activate_password_needs_email", nil)))
	case o.email != "":
		if e := strings.TrimSpace(o.email); len(e) < 3 || len(e) > localapi.MaxEmailLen || !strings.Contains(e, "@") || strings.ContainsAny(e, " \t") {
			return agentapi.ActivateRequest{}, fail(ExitUsage, errors.New(loc.T("cli_bad_email", i18n.Args{"email": o.email})))
		}
		var pw string
		var err error
		if o.passwordStdin {
			pw, err = readSecretLine(loc, env.Stdin, localapi.MaxPasswordLen)
		} else {
			pw, err = askPassword(env, o.email)
		}
		if err != nil {
			return agentapi.ActivateRequest{}, fail(ExitUsage, err)
		}
		return agentapi.ActivateRequest{Method: agentapi.ActivatePassword, Email: o.email, Password: pw}, nil
	default:
		return agentapi.ActivateRequest{Method: agentapi.ActivateBrowser}, nil
	}
}

// askPassword asks for the password at the terminal, without echo.
func askPassword(env Env, email string) (string, error) {
	loc := env.loc
	if env.ReadSecret == nil {
		return "", errors.New(loc.T("cli_activate_needs_terminal", nil))
	}
	pw, err := env.ReadSecret(loc.T("cli_password_prompt", i18n.Args{"email": email}))
	switch {
	case errors.Is(err, errNotTerminal):
		return "", errors.New(loc.T("cli_activate_needs_terminal", nil))
	case err != nil:
		return "", errors.New(loc.T("cli_password_read", i18n.Args{"error": err}))
	case pw == "":
		return "", errors.New(loc.T("cli_password_empty", nil))
	case len(pw) > localapi.MaxPasswordLen:
		return "", errors.New(loc.T("cli_password_too_long", i18n.Args{"max": localapi.MaxPasswordLen}))
	}
	return pw, nil
}

// readSecretLine reads the first line of r, at most max bytes.
func readSecretLine(loc *i18n.Localizer, r io.Reader, max int) (string, error) {
	if r == nil {
		return "", errors.New(loc.T("cli_password_no_stdin", nil))
	}
	br := bufio.NewReaderSize(io.LimitReader(r, int64(max)+2), max+2)
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", errors.New(loc.T("cli_password_read", i18n.Args{"error": err}))
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New(loc.T("cli_password_empty", nil))
	}
	if len(line) > max {
		return "", errors.New(loc.T("cli_password_too_long", i18n.Args{"max": max}))
	}
	return line, nil
}

func announce(ctx context.Context, env Env, p *agentapi.PendingAuth, o activateOptions) {
	loc := env.loc
	w := env.Stderr
	if !o.asJSON {
		w = env.Stdout
	}
	fmt.Fprintln(w, loc.T("cli_signin_open", i18n.Args{"url": p.VerificationURI, "code": p.UserCode}))
	target := p.VerificationURIComplete
	if target == "" {
		target = p.VerificationURI
	}
	if o.noBrowser || env.OpenURL == nil || !(strings.HasPrefix(target, "https://") || strings.HasPrefix(target, "http://")) {
		return
	}
	// OpenURL returns nil only when the opener said it succeeded.
	if err := env.OpenURL(ctx, target); err == nil {
		fmt.Fprintln(w, loc.T("cli_signin_opened", nil))
	}
	fmt.Fprintln(w, loc.T("cli_signin_waiting", nil))
}

// pollInterval is how often the status is polled when the event stream fails.
const pollInterval = 2 * time.Second

// waitSignIn follows the agent's events (or polls its status) until the
// sign-in ends: entitled, pending gone, or the code expired.
func waitSignIn(ctx context.Context, env Env, c *agentclient.Client, p *agentapi.PendingAuth) (*agentapi.Status, error) {
	ctx, cancel := context.WithDeadline(ctx, p.ExpiresAt.Add(30*time.Second))
	defer cancel()
	done := func(st *agentapi.Status) bool { return st.Entitlement.Entitled || st.Pending == nil }
	events, errc := c.Events(ctx)
	for ev := range events {
		if ev.Status != nil && done(ev.Status) {
			return ev.Status, nil
		}
	}
	if err := <-errc; err != nil && ctx.Err() == nil {
		// The stream broke: poll the status instead.
		if st, err := pollSignIn(ctx, env, c, done); st != nil || err != nil {
			return st, err
		}
	}
	if ctx.Err() != nil {
		return nil, fail(ExitError, errors.New(env.loc.T("cli_signin_expired", nil)))
	}
	return nil, fail(ExitError, errors.New(env.loc.T("cli_signin_incomplete", nil)))
}

func pollSignIn(ctx context.Context, env Env, c *agentclient.Client, done func(*agentapi.Status) bool) (*agentapi.Status, error) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		st, err := c.Status(ctx)
		switch {
		case ctx.Err() != nil:
			return nil, nil
		case err != nil:
			return nil, apiFail(env.loc, err)
		case done(st):
			return st, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-t.C:
		}
	}
}
