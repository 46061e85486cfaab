package subscriptions

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/store"
)

// Notifier tells a connected computer to check in now (package push). It is
// called after the changing transaction committed.
type Notifier interface {
	Notify(ctx context.Context, deviceID string)
}

// ReleaseFunc frees a device's seat in tx (devices.Service.ReleaseIn),
// journaled under action.
type ReleaseFunc func(ctx context.Context, tx *store.Tx, deviceID, actor, action string, details map[string]any) error

// Config configures a Service.
type Config struct {
	Now    func() time.Time // default time.Now
	Logger *slog.Logger
	// Release frees the seats of a revoked license's computers (required).
	Release ReleaseFunc
	// Notify nudges the computers of a changed license to check in at once;
	// nil: they learn at their scheduled check-in.
	Notify Notifier
	// InstallURL is where the assignment mail sends a member to install and
	// activate (the server's account page).
	InstallURL string
}

// Service is the subscriptions domain over a store.DB.
type Service struct {
	db      *store.DB
	release ReleaseFunc
	notify  Notifier
	now     func() time.Time
	log     *slog.Logger
	install string
}

// New returns a Service.
func New(db *store.DB, cfg Config) (*Service, error) {
	if db == nil || cfg.Release == nil {
		return nil, errors.New("subscriptions: nil database or release")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, release: cfg.Release, notify: cfg.Notify, now: cfg.Now, log: cfg.Logger, install: cfg.InstallURL}, nil
}

// nudge tells the computers to check in now; called after commit.
func (s *Service) nudge(ctx context.Context, deviceIDs []string) {
	if s.notify == nil {
		return
	}
	for _, id := range deviceIDs {
		s.notify.Notify(ctx, id)
	}
}

func errForbidden(format string, args ...any) *fault.Error {
	return fault.Errorf(adminapi.ErrForbidden, format, args...)
}
