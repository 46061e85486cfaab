// Command entitle-tray is the Entitle tray icon: it shows this computer's
// license state from the local agent and offers activation, deactivation,
// check-in, the profiles folder and help.
//
// It finds the agent the way the `entitle` command does: the configuration
// file (--config, else $ENTITLE_CONFIG, else the system's agent.toml), then
// ENTITLE_* variables, then --listen and --state-dir; the API token is in the
// state folder. It reads them again before each connection attempt, so a
// changed agent.toml is picked up without a restart.
//
// It builds with CGO_ENABLED=0 on Linux (a D-Bus StatusNotifierItem with a
// com.canonical.dbusmenu menu; GNOME needs the AppIndicator extension) and
// Windows. macOS needs cgo (fyne.io/systray uses Cocoa): build it there with
// CGO_ENABLED=1.
//
// Usage:
//
//	entitle-tray [--config FILE] [--listen IP:PORT] [--state-dir DIR] [--lang en|fr] [--help-url URL] [--log-level LEVEL] [--version]
//
// Its language is the CLI's: --lang, then $ENTITLE_LANG, then the language
// of agent.toml, then LC_ALL / LC_MESSAGES / LANG (the user's UI language on
// Windows, AppleLanguages on macOS).
//
// Exit codes: 0 ok (Quit or a signal), 1 error, 2 usage, 3 no desktop session
// (on Linux: no D-Bus session bus).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"fyne.io/systray"
	"github.com/spf13/pflag"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/agent/flagtext"
	"github.com/entitle/entitle/pkg/agentclient"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/version"
	"github.com/entitle/entitle/tray/app"
	"github.com/entitle/entitle/tray/model"
	"github.com/entitle/entitle/tray/notify"
	"github.com/entitle/entitle/tray/open"
	"github.com/entitle/entitle/tray/systrayui"
)

// Exit codes.
const (
	exitOK        = 0
	exitError     = 1
	exitUsage     = 2
	exitNoDesktop = 3
)

type options struct {
	helpURL, logLevel string
	maxBackoff        time.Duration
	confirmFor        time.Duration
	// agentFlags are the agent's own --config, --listen and --state-dir,
	// read by config.Load exactly as the CLI reads them.
	agentFlags *pflag.FlagSet
}

// parseFlags parses args. done is true when --help or --version was printed.
func parseFlags(loc *i18n.Localizer, args []string, stdout io.Writer) (o options, done bool, err error) {
	fs := pflag.NewFlagSet("entitle-tray", pflag.ContinueOnError)
	fs.SetOutput(stdout)
	o.agentFlags = pflag.NewFlagSet("agent", pflag.ContinueOnError)
	config.AddFlags(o.agentFlags)
	flagtext.LocalizeConfigFlags(loc, o.agentFlags)
	for _, name := range []string{config.FlagConfig, config.FlagListen, config.FlagStateDir, config.FlagLanguage} {
		fs.AddFlag(o.agentFlags.Lookup(name))
	}
	fs.StringVar(&o.helpURL, "help-url", "", loc.T("tray_flag_help_url", nil))
	fs.StringVar(&o.logLevel, "log-level", "info", loc.T("tray_flag_log_level", nil))
	fs.DurationVar(&o.maxBackoff, "max-backoff", 10*time.Second, loc.T("tray_flag_max_backoff", nil))
	fs.DurationVar(&o.confirmFor, "confirm-timeout", model.ConfirmFor, loc.T("tray_flag_confirm_timeout", nil))
	_ = fs.MarkHidden("confirm-timeout") // for tests
	showVersion := fs.Bool("version", false, loc.T("tray_flag_version", nil))
	help := fs.BoolP("help", "h", false, loc.T("tray_flag_help", nil))
	fs.Usage = func() {
		fmt.Fprint(stdout, loc.T("tray_cmd_usage", i18n.Args{"flags": fs.FlagUsages()}))
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return o, true, nil
		}
		return o, false, flagtext.Error(loc, err)
	}
	if *help {
		fs.Usage()
		return o, true, nil
	}
	if *showVersion {
		fmt.Fprintf(stdout, "entitle-tray %s (%s, %s/%s)\n", version.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH) // i18n:ignore: names and numbers
		return o, true, nil
	}
	if fs.NArg() > 0 {
		return o, false, errors.New(loc.T("tray_cmd_bad_args", i18n.Args{"args": strings.Join(fs.Args(), " ")}))
	}
	if o.helpURL != "" && !model.WebURL(o.helpURL) {
		return o, false, errors.New(loc.T("tray_cmd_bad_help_url", nil))
	}
	if o.maxBackoff < time.Second || o.maxBackoff > time.Minute {
		return o, false, errors.New(loc.T("tray_cmd_bad_max_backoff", nil))
	}
	if o.confirmFor < time.Second || o.confirmFor > 5*time.Minute {
		return o, false, errors.New(loc.T("tray_cmd_bad_confirm_timeout", nil))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return o, false, errors.New(loc.T("tray_cmd_bad_log_level", i18n.Args{"value": o.logLevel}))
	}
	if f := fs.Lookup(config.FlagListen); f.Changed {
		if err := config.ValidateListen(f.Value.String()); err != nil {
			return o, false, errors.New(loc.T("tray_cmd_bad_listen", i18n.Args{"error": err}))
		}
	}
	return o, false, nil
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	loc := flagtext.Language(i18n.New(), args, os.LookupEnv)
	o, done, err := parseFlags(loc, args, stdout)
	if done {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, loc.T("tray_cmd_error", i18n.Args{"error": err}))
		fmt.Fprintln(stderr, loc.T("tray_cmd_usage_hint", nil))
		return exitUsage
	}
	// systray panics inside its D-Bus setup, then hangs, without a session
	// bus: look first and say so.
	if err := checkDesktop(loc); err != nil {
		fmt.Fprintln(stderr, loc.T("tray_cmd_error", i18n.Args{"error": err}))
		return exitNoDesktop
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(o.logLevel)) // checked by parseFlags
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := show(loc, o, log); err != nil {
		log.Error("start", "err", err)
		return exitError
	}
	return exitOK
}

// show shows the tray until Quit is clicked or a signal arrives.
func show(loc *i18n.Localizer, o options, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	notifier := notify.New()
	defer notifier.Close()
	var a *app.App
	ui := systrayui.New(log, func(act model.Action) { a.Click(act) })
	a, err := app.New(app.Options{
		Dial:       dialer(o.agentFlags, os.LookupEnv),
		Renderer:   ui,
		Opener:     open.Opener{},
		Notifier:   notifier,
		Logger:     log,
		Localizer:  loc,
		HelpURL:    o.helpURL,
		MaxBackoff: o.maxBackoff,
		ConfirmFor: o.confirmFor,
	})
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	onReady := func() {
		systray.SetTitle("Entitle") // i18n:ignore: the product's name
		wg.Go(func() {
			if err := a.Run(ctx); err != nil {
				log.Error("tray stopped", "err", err)
			}
			systray.Quit()
		})
		wg.Go(func() { resync(ctx, ui) })
	}
	onExit := func() {
		cancel()
		wg.Wait()
		ui.Close()
	}
	systray.Run(onReady, onExit)
	log.Info("tray exited")
	return nil
}

// dialer finds the agent as the CLI does (config.Load with the system's
// agent.toml as default, the environment and the agent flags) on every
// attempt, so an edited agent.toml, an agent started later or a new token is
// picked up. A missing token file means the agent has not run yet.
func dialer(agentFlags *pflag.FlagSet, lookupEnv func(string) (string, bool)) app.Dialer {
	return func() (app.Agent, error) {
		cfg, err := config.Load(config.DefaultPath(), lookupEnv, agentFlags)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", app.ErrConfig, err)
		}
		tok, err := agentclient.ReadToken(cfg.StateDir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %w", agentclient.ErrAgentNotRunning, err)
		}
		if err != nil {
			return nil, err
		}
		return agentclient.New(agentclient.Options{BaseURL: "http://" + cfg.Listen, Token: tok})
	}
}

// resync re-applies the icon and tooltip a few times after start, when
// systray may have dropped them (see systrayui.UI.Resync).
func resync(ctx context.Context, ui *systrayui.UI) {
	for _, d := range []time.Duration{300 * time.Millisecond, time.Second, 3 * time.Second} {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
			ui.Resync()
		}
	}
}
