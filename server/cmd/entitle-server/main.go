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

	"github.com/entitle/entitle/internal/clihelp"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/version"
	"github.com/entitle/entitle/server/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := i18n.New()
	loc := b.Localizer(detectLanguage(b, os.Args[1:], os.LookupEnv))
	if err := newLocalizedRoot(loc, os.Stdin, os.Stdout, os.Stderr).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, loc.T("srv_error_prefix", i18n.Args{"error": usageText(loc, err)}))
		os.Exit(1)
	}
}

// usageText words err for the reader: cobra's and pflag's parse errors are
// reworded (internal/clihelp); the commands' own errors are already words.
func usageText(loc *i18n.Localizer, err error) string { return clihelp.UsageError(loc, err).Error() }

// app holds the global options, the process's standard streams and the
// reader's language.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	loc            *i18n.Localizer
	lang           string // --lang, read by detectLanguage before the flags are parsed

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

// newRoot is the command in the language of the environment (the tests';
// main reads --lang from the arguments too).
func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	b := i18n.New()
	return newLocalizedRoot(b.Localizer(detectLanguage(b, nil, os.LookupEnv)), stdin, stdout, stderr)
}

// newLocalizedRoot is the command speaking loc's language: help, errors,
// tables and confirmations (--json output is codes and data).
func newLocalizedRoot(loc *i18n.Localizer, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, loc: loc}
	root := &cobra.Command{
		Use:           "entitle-server",
		Short:         loc.T("srv_root_short", nil),
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.applyConfig(cmd)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.dsn, "db", "sqlite:"+filepath.Join("run", "server.db"), loc.T("srv_flag_db", nil))
	pf.StringVar(&a.configFile, "config", "", loc.T("srv_flag_config", nil))
	pf.StringVar(&a.logFormat, "log-format", "text", loc.T("srv_flag_log_format", nil))
	pf.StringVar(&a.logLevel, "log-level", "info", loc.T("srv_flag_log_level", nil))
	pf.BoolVar(&a.jsonOut, "json", false, loc.T("srv_flag_json", nil))
	pf.StringVar(&a.publicURL, "public-url", "", loc.T("srv_flag_public_url", nil))
	pf.DurationVar(&a.offlineGrace, "offline-grace", 7*24*time.Hour, loc.T("srv_flag_offline_grace", nil))
	pf.DurationVar(&a.checkinInterval, "checkin-interval", 6*time.Hour, loc.T("srv_flag_checkin_interval", nil))
	pf.StringVar(&a.lang, langFlag, "", loc.T("srv_flag_lang", nil))
	root.AddCommand(a.serveCmd(), a.migrateCmd(), a.accountCmd(), a.licenseCmd(), a.keysCmd(), a.demoCmd(), a.mailCmd(), a.orgCmd(), a.operatorCmd())
	root.AddCommand(a.journalCmd(), a.deviceCmd(), a.commandCmd(), a.subscriptionCmd(), a.planCmd(), a.orderCmd())
	clihelp.Localize(loc, root)
	root.SetOut(stdout)
	root.SetErr(stderr)
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
			return errors.New(a.loc.T("srv_err_config_read", i18n.Args{"file": a.configFile, "error": err}))
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
			errs = append(errs, errors.New(a.loc.T("srv_err_config_unknown", i18n.Args{"file": a.configFile, "key": k, "command": cmd.CommandPath()})))
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
		return nil, errors.New(a.loc.T("srv_err_log_level", i18n.Args{"value": a.logLevel}))
	}
	lvl = max(lvl, floor)
	opts := &slog.HandlerOptions{Level: lvl}
	switch a.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	default:
		return nil, errors.New(a.loc.T("srv_err_log_format", i18n.Args{"value": a.logFormat}))
	}
}

// sqliteDir creates the folder of a SQLite database file so the default
// ./run/server.db works on a fresh checkout.
func (a *app) sqliteDir(dsn string) error {
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
			return errors.New(a.loc.T("srv_err_db_folder", i18n.Args{"error": err}))
		}
	}
	return nil
}

// open opens the database and builds the server domains; the caller closes the
// returned DB.
func (a *app) open(ctx context.Context, logger *slog.Logger, issuer string, tune ...func(*domains.Config)) (*store.DB, *domains.App, error) {
	if err := a.sqliteDir(a.dsn); err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, a.dsn, logger)
	if err != nil {
		return nil, nil, errors.New(a.loc.T("srv_err_open_database", i18n.Args{"error": err}))
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
		return nil, nil, errors.New(a.loc.T("srv_err_start", i18n.Args{"error": err}))
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
