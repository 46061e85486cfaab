// Package svc runs the agent as an OS service (Windows service, systemd or
// SysV init on Linux, launchd on macOS) through kardianos/service, and in the
// foreground for terminals, CI and containers. It logs to the caller's slog
// logger (stderr), never to syslog.
package svc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/kardianos/service"
)

// Actions accepted by Control.
var Actions = []string{"install", "uninstall", "start", "stop", "restart"}

// StopTimeout bounds how long a stop waits for run to return.
const StopTimeout = 20 * time.Second

// Service is one named service whose body is a run function.
type Service struct {
	name string
	svc  service.Service
	prg  *program
	log  *slog.Logger
}

// Option configures New.
type Option func(*Service)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// New describes the service name (display name and description are shown by
// the OS service manager). The name is what the service manager knows the
// service by: the Windows service name, the systemd unit or SysV script name,
// and on macOS the launchd Label (and /Library/LaunchDaemons/<name>.plist),
// so it must match what an installer registered for Status and Control to
// find it. args are the command-line arguments the service
// manager starts the current executable with (for example
// []string{"service", "run", "--config", path}); run is the service body: it
// must return when its context ends.
func New(name, displayName, description string, args []string, run func(ctx context.Context) error, opts ...Option) (*Service, error) {
	if name == "" || run == nil {
		return nil, errors.New("svc: a name and a run function are required")
	}
	s := &Service{name: name, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(s)
	}
	s.prg = &program{run: run, log: s.log}
	cfg := &service.Config{
		Name: name, DisplayName: displayName, Description: description, Arguments: args,
		Option: service.KeyValue{
			// Wait for a stop signal or for run to end on its own (Unix
			// service managers); kardianos would otherwise wait only for a
			// signal and hide a failed start.
			"RunWait": s.prg.wait,
		},
	}
	svc, err := service.New(s.prg, cfg)
	if err != nil {
		return nil, fmt.Errorf("svc: %w", err)
	}
	s.svc = svc
	return s, nil
}

// Platform names the service system in use, e.g. "unix-systemv", "linux-systemd", "windows-service".
func (s *Service) Platform() string { return s.svc.Platform() }

// Control performs install, uninstall, start, stop or restart.
func (s *Service) Control(action string) error {
	if !slices.Contains(Actions, action) {
		return fmt.Errorf("svc: unknown action %q (want one of %v)", action, Actions)
	}
	if err := service.Control(s.svc, action); err != nil {
		return fmt.Errorf("service %s: %s: %w", s.name, action, err)
	}
	if action == "uninstall" {
		if err := afterUninstall(s.svc.Platform(), s.name); err != nil {
			return fmt.Errorf("service %s: uninstall: %w", s.name, err)
		}
	}
	s.log.Info("service "+action, "name", s.name, "platform", s.svc.Platform())
	return nil
}

// Status reports "running", "stopped" or "not installed".
func (s *Service) Status() (string, error) {
	st, err := s.svc.Status()
	if err != nil {
		if known, ok := sysvStatus(s.svc.Platform(), s.name); ok {
			return known, nil
		}
	}
	switch {
	case errors.Is(err, service.ErrNotInstalled):
		return "not installed", nil
	case err != nil:
		return "unknown", fmt.Errorf("service %s: status: %w", s.name, err)
	case st == service.StatusRunning:
		return "running", nil
	case st == service.StatusStopped:
		return "stopped", nil
	default:
		return "unknown", nil
	}
}

// Run runs the service body: under the OS service manager when started by
// it, otherwise in the foreground until SIGINT or SIGTERM. It returns run's
// error (nil after a clean stop).
func (s *Service) Run() error {
	if service.Interactive() {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return s.RunForeground(ctx)
	}
	if err := s.svc.Run(); err != nil {
		return fmt.Errorf("service %s: %w", s.name, err)
	}
	return s.prg.result()
}

// RunForeground runs the body until ctx ends.
func (s *Service) RunForeground(ctx context.Context) error {
	s.log.Info("running in the foreground", "name", s.name)
	return s.prg.run(ctx)
}

// program adapts a run function to kardianos' Start/Stop interface.
type program struct {
	run func(context.Context) error
	log *slog.Logger

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Start must not block: it starts run in a goroutine owned by the program
// (stopped by Stop).
func (p *program) Start(service.Service) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done != nil {
		return errors.New("svc: already started")
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		err := p.run(ctx)
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		if ctx.Err() == nil {
			p.log.Error("service body ended on its own", "err", err)
			exitedEarly(err)
		}
		close(p.done)
	}()
	return nil
}

// Stop cancels run and waits for it, at most StopTimeout.
func (p *program) Stop(service.Service) error {
	p.mu.Lock()
	cancel, done := p.cancel, p.done
	p.mu.Unlock()
	if done == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-time.After(StopTimeout):
		return fmt.Errorf("svc: the service did not stop within %s", StopTimeout)
	}
}

// wait blocks until a stop signal arrives or run ends by itself.
func (p *program) wait() {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case <-sig:
	case <-done:
	}
}

func (p *program) result() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
