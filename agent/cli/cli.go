// Package cli is the `entitle` command line: the agent's foreground service
// (`entitle service run`) and the commands people and scripts use to talk to a
// running agent through its local API.
//
// Exit codes: 0 ok; 1 error; 2 usage (also: a confirmation or a password
// needs a terminal and stdin is not one); 3 not entitled (status); 4 agent
// not running.
//
// Every word it prints comes from the catalog (pkg/i18n, area cli) in the
// language of --lang, ENTITLE_LANG, the configuration's language, or the
// system's locale; TestNoLiteralsOutsideCatalog keeps it that way.
package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/entitle/entitle/agent/profiles/profilescli"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/pkg/i18n"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2
	ExitNotEntitled = 3
	ExitNoAgent     = 4
)

// Env is what the commands touch of the outside world, injected for tests.
type Env struct {
	Stdin      io.Reader
	Stdout     io.Writer
	Stderr     io.Writer
	LookupEnv  func(string) (string, bool)
	IsTerminal func(any) bool // reports whether a stream is an interactive terminal
	// OpenURL opens url in a browser and returns nil only when the opener
	// reported success.
	OpenURL func(ctx context.Context, url string) error
	// ReadSecret reads a line from the terminal without echo (nil: the
	// terminal of Stdin, with golang.org/x/term).
	ReadSecret func(prompt string) (string, error)
	// Catalog is the message catalog (nil: i18n.New()).
	Catalog *i18n.Bundle

	loc *i18n.Localizer // set by Run: the language of every message
}

// exitError carries an exit code with its error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// fail wraps err with an exit code.
func fail(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// silent is an exit with a code and nothing more to print.
func silent(code int) error { return &exitError{code: code} }

// Execute runs the command line with the process's arguments and streams and
// returns the exit code.
func Execute() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, os.Args[1:], Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		LookupEnv: os.LookupEnv, IsTerminal: isTerminal, OpenURL: openURL,
	})
}

// Run runs the command line with args and returns the exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Catalog == nil {
		env.Catalog = i18n.New()
	}
	env.loc = env.Catalog.Localizer(detectLanguage(args, env))
	if env.ReadSecret == nil {
		env.ReadSecret = terminalSecret(env)
	}
	root := newRoot(env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(env.Stderr, env.loc.T("cli_error_prefix", i18n.Args{"error": ee.err}))
		}
		return ee.code
	}
	// Anything else comes from argument parsing.
	fmt.Fprintln(env.Stderr, env.loc.T("cli_error_prefix", i18n.Args{"error": usageError(env.loc, err)}))
	fmt.Fprintln(env.Stderr, env.loc.T("cli_usage_hint", nil))
	return ExitUsage
}

func newRoot(env Env) *cobra.Command {
	loc := env.loc
	root := &cobra.Command{
		Use:           "entitle",
		Short:         loc.T("cli_root_short", nil),
		Long:          loc.T("cli_root_long", nil),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	config.AddFlags(root.PersistentFlags())
	localizeFlags(loc, root.PersistentFlags())
	root.AddCommand(
		newServiceCmd(env),
		newStatusCmd(env),
		newActivateCmd(env),
		newDeactivateCmd(env),
		newCheckCmd(env),
		newConfigCmd(env),
		newVersionCmd(env),
	)
	root.AddCommand(withExitCodes(env.loc, profilescli.Commands(profilescli.Deps{
		Stdin: env.Stdin, Stdout: env.Stdout, IsTerminal: env.IsTerminal, Loc: env.loc,
		Connect: func(cmd *cobra.Command) (*profilescli.Client, error) {
			cfg, err := loadConfig(cmd, env)
			if err != nil {
				return nil, err
			}
			tok, err := readToken(env.loc, cfg)
			if err != nil {
				return nil, err
			}
			return profilescli.NewClient("http://"+cfg.Listen, tok, nil)
		},
	}))...)
	localizeHelp(loc, root)
	return root
}

// withExitCodes makes the errors of commands written outside this package
// follow the documented exit codes: a failure while running is 1 (4 when the
// agent is not running), never 2, which Run keeps for usage errors.
func withExitCodes(loc *i18n.Localizer, cmds []*cobra.Command) []*cobra.Command {
	for _, c := range cmds {
		if run := c.RunE; run != nil {
			c.RunE = func(cmd *cobra.Command, args []string) error {
				err := run(cmd, args)
				var ee *exitError
				if err == nil || errors.As(err, &ee) {
					return err
				}
				return apiFail(loc, err)
			}
		}
		withExitCodes(loc, c.Commands())
	}
	return cmds
}

// loadConfig loads the effective configuration for cmd (file, environment,
// flags), as the agent does.
func loadConfig(cmd *cobra.Command, env Env) (config.Config, error) {
	cfg, err := config.Load(config.DefaultPath(), env.LookupEnv, cmd.Flags())
	if err != nil {
		return config.Config{}, fail(ExitUsage, configError(env.loc, err))
	}
	return cfg, nil
}
