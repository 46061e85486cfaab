// Command entitle-tray is the Entitle tray icon: it shows this computer's
// license state from the local agent and offers activation, deactivation,
// check-in, the profiles folder and help.
//
// It builds with CGO_ENABLED=0 on Linux (a D-Bus StatusNotifierItem with a
// com.canonical.dbusmenu menu; GNOME needs the AppIndicator extension) and
// Windows. macOS needs cgo (fyne.io/systray uses Cocoa): build it there with
// CGO_ENABLED=1.
//
// Usage:
//
//	entitle-tray [--agent-url URL] [--state-dir DIR | --token-file FILE] [--help-url URL] [--log-level LEVEL]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"fyne.io/systray"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/agentclient"
	"github.com/entitle/entitle/tray/app"
	"github.com/entitle/entitle/tray/model"
	"github.com/entitle/entitle/tray/notify"
	"github.com/entitle/entitle/tray/open"
	"github.com/entitle/entitle/tray/systrayui"
)

type flags struct {
	agentURL, stateDir, tokenFile, helpURL, logLevel string
	maxBackoff                                       time.Duration
}

func parseFlags(args []string) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("entitle-tray", flag.ContinueOnError)
	fs.StringVar(&f.agentURL, "agent-url", "http://"+agentapi.DefaultListen, "the agent's local API")
	fs.StringVar(&f.stateDir, "state-dir", config.Defaults().StateDir, "the agent's state folder (holds the API token)")
	fs.StringVar(&f.tokenFile, "token-file", "", "the API token file (default: <state-dir>/"+agentapi.TokenFile+")")
	fs.StringVar(&f.helpURL, "help-url", "", "help page when the agent names none")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.DurationVar(&f.maxBackoff, "max-backoff", 10*time.Second, "longest wait between attempts to reach the agent (1s..1m)")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if f.helpURL != "" && !model.WebURL(f.helpURL) {
		return f, fmt.Errorf("--help-url must be an http(s) URL")
	}
	if f.maxBackoff < time.Second || f.maxBackoff > time.Minute {
		return f, fmt.Errorf("--max-backoff must be between 1s and 1m")
	}
	if f.tokenFile == "" {
		f.tokenFile = filepath.Join(f.stateDir, agentapi.TokenFile)
	}
	if _, err := agentclient.New(agentclient.Options{BaseURL: f.agentURL}); err != nil {
		return f, fmt.Errorf("--agent-url: %w", err)
	}
	return f, nil
}

func main() {
	f, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "entitle-tray:", err)
		os.Exit(2)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "entitle-tray: --log-level:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	run(f, log)
}

// run shows the tray until Quit is clicked or a signal arrives.
func run(f flags, log *slog.Logger) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	notifier := notify.New()
	defer notifier.Close()
	var a *app.App
	ui := systrayui.New(log, func(act model.Action) { a.Click(act) })
	a, err := app.New(app.Options{
		Dial:       dialer(f),
		Renderer:   ui,
		Opener:     open.Opener{},
		Notifier:   notifier,
		Logger:     log,
		HelpURL:    f.helpURL,
		MaxBackoff: f.maxBackoff,
	})
	if err != nil {
		log.Error("start", "err", err)
		os.Exit(1)
	}
	var wg sync.WaitGroup
	onReady := func() {
		systray.SetTitle("Entitle")
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
}

// dialer reads the token on every attempt, so an agent started later or a
// new token is picked up. A missing token file means the agent has not run yet.
func dialer(f flags) app.Dialer {
	return func() (app.Agent, error) {
		tok, err := agentclient.ReadTokenFile(f.tokenFile)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %w", agentclient.ErrAgentNotRunning, err)
		}
		if err != nil {
			return nil, err
		}
		return agentclient.New(agentclient.Options{BaseURL: f.agentURL, Token: tok})
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
