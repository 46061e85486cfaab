package signing

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/store"
)

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	Issuer          string        // lease "iss" (the server's public base URL)
	OfflineGrace    time.Duration // default 7 days: lease exp = min(license term end, now+grace)
	CheckinInterval time.Duration // default 15 min: lease "chk" = now + interval; CheckinAfter in responses
	// KeyRefresh is how often a Service that signs leases checks which
	// signing key is active, to follow a rotation made by another process
	// or server instance without a restart. Default 30 s.
	KeyRefresh time.Duration
	Now        func() time.Time // default time.Now
	Logger     *slog.Logger
}

// Service holds the signing keys and signs leases.
type Service struct {
	db     *store.DB
	cfg    Config
	now    func() time.Time
	log    *slog.Logger
	signer atomic.Pointer[activeKey]
	// keyMu orders the writes of signer by refreshes and rotations;
	// keyCheckAt is when (Unix ns) signing next checks the active key.
	keyMu      sync.Mutex
	keyCheckAt atomic.Int64
}

// New returns a Service, creating the first signing key if there is none.
func New(ctx context.Context, db *store.DB, cfg Config) (*Service, error) {
	if db == nil {
		return nil, errors.New("signing: nil database")
	}
	if cfg.OfflineGrace <= 0 {
		cfg.OfflineGrace = 7 * 24 * time.Hour
	}
	if cfg.CheckinInterval <= 0 {
		cfg.CheckinInterval = 15 * time.Minute
	}
	if cfg.KeyRefresh <= 0 {
		cfg.KeyRefresh = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, cfg: cfg, now: cfg.Now, log: cfg.Logger}
	if err := s.loadOrCreateKey(ctx); err != nil {
		return nil, err
	}
	s.keyCheckAt.Store(s.now().Add(cfg.KeyRefresh).UnixNano())
	return s, nil
}

// CheckinAfter is the check-in interval in seconds, as responses carry it.
func (s *Service) CheckinAfter() int { return int(s.cfg.CheckinInterval / time.Second) }

func errf(code, format string, args ...any) *fault.Error { return fault.Errorf(code, format, args...) }
