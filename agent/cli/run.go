package cli

import (
	"time"

	"context"
	"errors"
	"fmt"
	"github.com/entitle/entitle/agent/profiles"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/agent/engine"
	"github.com/entitle/entitle/agent/fingerprint"
	"github.com/entitle/entitle/agent/localapi"
	"github.com/entitle/entitle/agent/state"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/version"
)

// runOptions are the flags of `entitle service run` beyond the configuration.
type runOptions struct {
	addrFile   string
	logFormat  string
	tokenGroup string
}

func newRunCmd(env Env) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run",
		Short: env.loc.T("cli_run_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, env)
			if err != nil {
				return err
			}
			if o.logFormat != "text" && o.logFormat != "json" {
				return fail(ExitUsage, errors.New(env.loc.T("cli_run_bad_log_format", i18n.Args{"value": o.logFormat})))
			}
			return fail(ExitError, runService(cmd.Context(), func(ctx context.Context) error {
				return runAgent(ctx, cfg, o, env.Stderr, env.Catalog)
			}))
		},
	}
	cmd.Flags().StringVar(&o.addrFile, "addr-file", "", env.loc.T("cli_flag_addr_file", nil))
	cmd.Flags().StringVar(&o.logFormat, "log-format", "text", env.loc.T("cli_flag_log_format", nil))
	cmd.Flags().StringVar(&o.tokenGroup, "token-group", "", env.loc.T("cli_flag_token_group", nil))
	return cmd
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err) // i18n:ignore service log (entitle service run)
	}
	ho := &slog.HandlerOptions{Level: lv}
	// Every component's log lines are masked: no whole license key in them.
	if format == "json" {
		return slog.New(engine.MaskKeys(slog.NewJSONHandler(w, ho))), nil
	}
	return slog.New(engine.MaskKeys(slog.NewTextHandler(w, ho))), nil
}

// runAgent runs engine and local API until ctx ends. It returns nil after a
// clean shutdown.
func runAgent(ctx context.Context, cfg config.Config, o runOptions, logw io.Writer, cat *i18n.Bundle) error {
	log, err := newLogger(logw, o.logFormat, cfg.LogLevel)
	if err != nil {
		return err
	}
	keys, err := cfg.KeySet()
	if err != nil {
		return fmt.Errorf("pinned keys: %w", err) // i18n:ignore service log (entitle service run)
	}
	fp, err := fingerprint.Fingerprint(cfg.ProductID)
	if err != nil {
		return err
	}
	token, err := state.EnsureToken(cfg.StateDir, o.tokenGroup)
	if err != nil {
		return err
	}
	// Created at start so a fresh install has a folder to open and drop
	// profiles into; private keys inside are 0600 whatever the folder's mode.
	if err := os.MkdirAll(cfg.ProfileDir, 0o700); err != nil {
		return fmt.Errorf("profile folder: %w", err) // i18n:ignore service log (entitle service run)
	}
	// The profile manager reads the plan limit from the engine's precomputed
	// answer (no lock, no I/O); eng is assigned before either one runs.
	var eng *engine.Engine
	pm, err := profiles.New(profiles.Options{
		Dir:            cfg.ProfileDir,
		Logger:         log.With("component", "profiles"),
		ExpiringWithin: time.Duration(cfg.ExpiringDays) * 24 * time.Hour,
		PlanLimit:      func() int { return eng.Entitlement("").MaxProfiles },
	})
	if err != nil {
		return err
	}
	eng, err = engine.New(engine.Options{Config: cfg, Fingerprint: fp, Keys: keys, Logger: log.With("component", "engine"), Version: version.Version, Profiles: pm, Catalog: cat})
	if err != nil {
		return err
	}
	api, err := localapi.New(localapi.Options{Engine: eng, Token: token, Catalog: cat, Logger: log.With("component", "localapi"), Extra: pm.Routes, BodyLimits: profiles.BodyLimits()})
	if err != nil {
		return err
	}
	ln, err := localapi.Listen(ctx, cfg.Listen)
	if err != nil {
		return err
	}
	if o.addrFile != "" {
		if err := writeAddrFile(o.addrFile, ln.Addr().String()); err != nil {
			ln.Close()
			return err
		}
	}
	log.Info("agent started", "listen", ln.Addr().String(), "version", version.Version, "state_dir", cfg.StateDir, "server", cfg.ServerURL)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(3)
	go func() {
		defer wg.Done()
		// Profile watching failing (e.g. the inotify limit) must not take the
		// entitlement answer down with it: log it and keep serving.
		if err := pm.Run(ctx); err != nil {
			log.Error("profile folder is no longer watched", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		defer cancel() // one part ending stops the other
		errs[0] = eng.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		defer cancel()
		errs[1] = api.Serve(ctx, ln)
	}()
	wg.Wait()
	log.Info("agent stopped")
	for _, e := range errs {
		if e != nil && !errors.Is(e, context.Canceled) {
			return e
		}
	}
	return nil
}

// writeAddrFile writes addr atomically (readers never see a partial line).
func writeAddrFile(path, addr string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".addr-*")
	if err != nil {
		return fmt.Errorf("addr file: %w", err) // i18n:ignore service log (entitle service run)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(strings.TrimSpace(addr) + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("addr file: %w", err) // i18n:ignore service log (entitle service run)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("addr file: %w", err) // i18n:ignore service log (entitle service run)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("addr file: %w", err) // i18n:ignore service log (entitle service run)
	}
	return nil
}
