// Package cli is the `entitle` command line: the agent's foreground service
// (`entitle service run`) and the commands people and scripts use to talk to a
// running agent through its local API.
//
// Exit codes: 0 ok; 1 error; 2 usage; 3 not entitled (status); 4 agent not
// running.
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
	OpenURL    func(ctx context.Context, url string) error
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
			fmt.Fprintln(env.Stderr, "entitle:", ee.err)
		}
		return ee.code
	}
	// Anything else comes from argument parsing.
	fmt.Fprintln(env.Stderr, "entitle:", err)
	fmt.Fprintln(env.Stderr, "Run 'entitle --help' for usage.")
	return ExitUsage
}

func newRoot(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "entitle",
		Short: "Entitle licensing agent",
		Long: `entitle runs the Entitle licensing agent and talks to it.

Exit codes: 0 ok, 1 error, 2 usage, 3 not entitled (status), 4 agent not running.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	config.AddFlags(root.PersistentFlags())
	root.AddCommand(
		newServiceCmd(env),
		newStatusCmd(env),
		newActivateCmd(env),
		newDeactivateCmd(env),
		newCheckCmd(env),
		newConfigCmd(env),
		newVersionCmd(env),
	)
	root.AddCommand(withExitCodes(profilescli.Commands(profilescli.Deps{
		Stdin: env.Stdin, Stdout: env.Stdout, IsTerminal: env.IsTerminal,
		Connect: func(cmd *cobra.Command) (*profilescli.Client, error) {
			cfg, err := loadConfig(cmd, env)
			if err != nil {
				return nil, err
			}
			tok, err := readToken(cfg)
			if err != nil {
				return nil, err
			}
			return profilescli.NewClient("http://"+cfg.Listen, tok, nil)
		},
	}))...)
	return root
}

// withExitCodes makes the errors of commands written outside this package
// follow the documented exit codes: a failure while running is 1 (4 when the
// agent is not running), never 2, which Run keeps for usage errors.
func withExitCodes(cmds []*cobra.Command) []*cobra.Command {
	for _, c := range cmds {
		if run := c.RunE; run != nil {
			c.RunE = func(cmd *cobra.Command, args []string) error {
				err := run(cmd, args)
				var ee *exitError
				if err == nil || errors.As(err, &ee) {
					return err
				}
				return apiFail(err)
			}
		}
		withExitCodes(c.Commands())
	}
	return cmds
}

// loadConfig loads the effective configuration for cmd (file, environment,
// flags), as the agent does.
func loadConfig(cmd *cobra.Command, env Env) (config.Config, error) {
	cfg, err := config.Load(config.DefaultPath(), env.LookupEnv, cmd.Flags())
	if err != nil {
		return config.Config{}, fail(ExitUsage, fmt.Errorf("configuration: %w", err))
	}
	return cfg, nil
}
