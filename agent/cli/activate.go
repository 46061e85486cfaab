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
	cmd := &cobra.Command{
		Use:   "activate",
		Short: "Activate this computer (browser sign-in by default)",
		Long: `Activate this computer.

Without flags, starts a browser sign-in: prints a URL and a code, opens the
browser when it can, and waits until the sign-in completes, fails or expires.
--license-key KEY activates with a license key; --email E --password-stdin
with an account (the password is read from the first line of stdin).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := activateRequest(o, env.Stdin)
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
			resp, err := c.Activate(ctx, req)
			if err != nil {
				return apiFail(err)
			}
			st := &resp.Status
			if req.Method == agentapi.ActivateBrowser {
				pending := resp.Pending
				if pending == nil {
					pending = resp.Status.Pending
				}
				if pending != nil {
					announce(ctx, env, pending, o)
					if st, err = waitSignIn(ctx, c, pending); err != nil {
						return err
					}
				}
			}
			if o.asJSON {
				if err := writeJSON(env.Stdout, st); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(env.Stdout, headline(st.Entitlement))
			}
			if !st.Entitlement.Entitled {
				return fail(ExitError, errors.New("activation did not complete"))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.licenseKey, "license-key", "", "activate with this license key")
	f.StringVar(&o.email, "email", "", "activate with this account (with --password-stdin)")
	f.BoolVar(&o.passwordStdin, "password-stdin", false, "read the account password from stdin")
	f.BoolVar(&o.noBrowser, "no-browser", false, "do not try to open a browser")
	f.BoolVar(&o.asJSON, "json", false, "print the final status as JSON")
	return cmd
}

func activateRequest(o activateOptions, stdin io.Reader) (agentapi.ActivateRequest, error) {
	switch {
	case o.licenseKey != "" && (o.email != "" || o.passwordStdin):
		return agentapi.ActivateRequest{}, fail(ExitUsage, errors.New("use either --license-key or --email with --password-stdin"))
	case o.licenseKey != "":
		return agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: strings.TrimSpace(o.licenseKey)}, nil
	case o.email != "" || o.passwordStdin:
		if o.email == "" || !o.passwordStdin {
			return agentapi.ActivateRequest{}, fail(ExitUsage, errors.New("--email and --password-stdin go together"))
		}
		pw, err := readSecretLine(stdin, localapi.MaxPasswordLen)
		if err != nil {
			return agentapi.ActivateRequest{}, fail(ExitUsage, err)
		}
		return agentapi.ActivateRequest{Method: agentapi.ActivatePassword, Email: o.email, Password: pw}, nil
	default:
		return agentapi.ActivateRequest{Method: agentapi.ActivateBrowser}, nil
	}
}

// readSecretLine reads the first line of r, at most max bytes.
func readSecretLine(r io.Reader, max int) (string, error) {
	if r == nil {
		return "", errors.New("no stdin to read the password from")
	}
	br := bufio.NewReaderSize(io.LimitReader(r, int64(max)+2), max+2)
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty password on stdin")
	}
	if len(line) > max {
		return "", fmt.Errorf("password longer than %d bytes", max)
	}
	return line, nil
}

func announce(ctx context.Context, env Env, p *agentapi.PendingAuth, o activateOptions) {
	w := env.Stderr
	if !o.asJSON {
		w = env.Stdout
	}
	fmt.Fprintf(w, "To activate, open %s and enter the code %s\n", p.VerificationURI, p.UserCode)
	target := p.VerificationURIComplete
	if target == "" {
		target = p.VerificationURI
	}
	if o.noBrowser || env.OpenURL == nil || !(strings.HasPrefix(target, "https://") || strings.HasPrefix(target, "http://")) {
		return
	}
	if err := env.OpenURL(ctx, target); err == nil {
		fmt.Fprintln(w, "(opened in your browser)")
	}
	fmt.Fprintln(w, "Waiting for the sign-in to complete...")
}

// pollInterval is how often the status is polled when the event stream fails.
const pollInterval = 2 * time.Second

// waitSignIn follows the agent's events (or polls its status) until the
// sign-in ends: entitled, pending gone, or the code expired.
func waitSignIn(ctx context.Context, c *agentclient.Client, p *agentapi.PendingAuth) (*agentapi.Status, error) {
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
		if st, err := pollSignIn(ctx, c, done); st != nil || err != nil {
			return st, err
		}
	}
	if ctx.Err() != nil {
		return nil, fail(ExitError, errors.New("the sign-in code expired or was interrupted before the sign-in completed"))
	}
	return nil, fail(ExitError, errors.New("the sign-in did not complete"))
}

func pollSignIn(ctx context.Context, c *agentclient.Client, done func(*agentapi.Status) bool) (*agentapi.Status, error) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		st, err := c.Status(ctx)
		switch {
		case ctx.Err() != nil:
			return nil, nil
		case err != nil:
			return nil, apiFail(err)
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
