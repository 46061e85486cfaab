// Command entitle-server is the licensing server: it serves the /v1 API that
// agents use, the web pages where people sign in and approve computers, and
// offers administration commands (accounts, licenses, signing keys).
//
// Every flag can also be set by an environment variable ENTITLE_SERVER_<FLAG>
// (upper case, dashes as underscores) or in a TOML file given with --config;
// a flag on the command line wins over the environment, which wins over the
// file.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	domains "github.com/entitle/entitle/server/app"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/entitle/entitle/pkg/version"
	"github.com/entitle/entitle/server/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot(os.Stdin, os.Stdout, os.Stderr).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "entitle-server:", err)
		os.Exit(1)
	}
}

// app holds the global options and the process's standard streams.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	dsn        string
	configFile string
	logFormat  string
	logLevel   string
	jsonOut    bool
	// Service settings shared by serve and the admin commands, so leases and
	// codes the admin commands produce match what the server would.
	publicURL       string
	offlineGrace    time.Duration
	checkinInterval time.Duration
}

const envPrefix = "ENTITLE_SERVER_"

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "entitle-server",
		Short:         "Entitle licensing server",
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.applyConfig(cmd)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.dsn, "db", "sqlite:"+filepath.Join("run", "server.db"), "database: a postgres:// URL or a SQLite file (sqlite:PATH)")
	pf.StringVar(&a.configFile, "config", "", "TOML file with flag values (keys are flag names)")
	pf.StringVar(&a.logFormat, "log-format", "text", "log format on stderr: text or json")
	pf.StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	pf.BoolVar(&a.jsonOut, "json", false, "print results as JSON")
	pf.StringVar(&a.publicURL, "public-url", "", "base URL agents and browsers reach the server at (default http://<listen address>)")
	pf.DurationVar(&a.offlineGrace, "offline-grace", 7*24*time.Hour, "how long a lease stays valid without a check-in")
	pf.DurationVar(&a.checkinInterval, "checkin-interval", 6*time.Hour, "how often agents are asked to check in")
	root.AddCommand(a.serveCmd(), a.migrateCmd(), a.accountCmd(), a.licenseCmd(), a.keysCmd(), a.demoCmd(), a.mailCmd(), a.orgCmd(), a.operatorCmd())
	root.AddCommand(a.journalCmd(), a.deviceCmd(), a.commandCmd(), a.subscriptionCmd(), a.planCmd(), a.orderCmd())
	return root
}

// applyConfig fills every flag not given on the command line from the
// environment, then from the TOML file.
func (a *app) applyConfig(cmd *cobra.Command) error {
	if f := cmd.Flags().Lookup("config"); f != nil && !f.Changed {
		if v, ok := os.LookupEnv(envPrefix + "CONFIG"); ok {
			a.configFile = v
		}
	}
	file := map[string]any{}
	if a.configFile != "" {
		if _, err := toml.DecodeFile(a.configFile, &file); err != nil {
			return fmt.Errorf("read config %s: %w", a.configFile, err)
		}
	}
	var errs []error
	// One file serves every command (serve and the admin commands), so a key
	// is valid when any command knows it; a key no command knows is a typo.
	known := allFlagNames(cmd.Root())
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "config" || f.Name == "help" || f.Name == "version" {
			return
		}
		env := envPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := setFlag(f, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
			return
		}
		if v, ok := file[f.Name]; ok {
			s := fmt.Sprint(v)
			if list, isList := v.([]any); isList {
				parts := make([]string, len(list))
				for i, p := range list {
					parts[i] = fmt.Sprint(p)
				}
				s = strings.Join(parts, ",")
			}
			if err := setFlag(f, s); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", a.configFile, f.Name, err))
			}
		}
	})
	for k := range file {
		if !known[k] {
			errs = append(errs, fmt.Errorf("%s: unknown setting %q for %q", a.configFile, k, cmd.CommandPath()))
		}
	}
	return errors.Join(errs...)
}

// allFlagNames returns the flag names of cmd and all its subcommands.
func allFlagNames(cmd *cobra.Command) map[string]bool {
	names := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { names[f.Name] = true })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { names[f.Name] = true })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(cmd)
	return names
}

func setFlag(f *pflag.Flag, v string) error {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		var items []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		return sv.Replace(items)
	}
	return f.Value.Set(v)
}

// logger builds the stderr logger at --log-level, but never below floor.
func (a *app) logger(floor slog.Level) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(a.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	lvl = max(lvl, floor)
	opts := &slog.HandlerOptions{Level: lvl}
	switch a.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format must be text or json, not %q", a.logFormat)
	}
}

// sqliteDir creates the folder of a SQLite database file so the default
// ./run/server.db works on a fresh checkout.
func sqliteDir(dsn string) error {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return nil
	}
	path := dsn
	for _, p := range []string{"sqlite://", "sqlite3://", "sqlite:", "sqlite3:", "file:"} {
		if strings.HasPrefix(path, p) {
			path = strings.TrimPrefix(path, p)
			break
		}
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if dir := filepath.Dir(path); dir != "" && dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create database folder: %w", err)
		}
	}
	return nil
}

// open opens the database and builds the server domains; the caller closes the
// returned DB.
func (a *app) open(ctx context.Context, logger *slog.Logger, issuer string, tune ...func(*domains.Config)) (*store.DB, *domains.App, error) {
	if err := sqliteDir(a.dsn); err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, a.dsn, logger)
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	cfg := domains.Config{
		Issuer: issuer, OfflineGrace: a.offlineGrace, CheckinInterval: a.checkinInterval,
		Now: time.Now, Logger: logger,
	}
	for _, f := range tune {
		f(&cfg)
	}
	svc, err := domains.New(db, cfg)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("start licensing service: %w", err)
	}
	return db, svc, nil
}

// admin runs fn with the domains for the one-shot admin commands, which log
// only warnings so their stdout stays clean for scripts.
func (a *app) admin(ctx context.Context, fn func(*domains.App) error) error {
	return a.adminDB(ctx, func(_ *store.DB, svc *domains.App) error { return fn(svc) })
}

// adminDB is admin for a command that also needs the database itself.
func (a *app) adminDB(ctx context.Context, fn func(*store.DB, *domains.App) error) error {
	logger, err := a.logger(slog.LevelWarn)
	if err != nil {
		return err
	}
	db, svc, err := a.open(ctx, logger, a.issuer())
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db, svc)
}

func (a *app) issuer() string {
	if a.publicURL != "" {
		return strings.TrimRight(a.publicURL, "/")
	}
	return "entitle-server"
}
