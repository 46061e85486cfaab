package deviceauth

import (
	"errors"
	"log/slog"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/devices"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ratelimit"
	"github.com/entitle/entitle/server/store"
)

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	DeviceCodeTTL      time.Duration // default 10 min
	DevicePollInterval time.Duration // default 5 s
	// UserCodeFailuresPerIP bounds lookups of device sign-in user codes
	// that match no sign-in, the cost of guessing codes. Default 10 a
	// minute, burst 10 per IP.
	UserCodeFailuresPerIP ratelimit.Limit
	// AuthorizePerIP bounds the sign-ins one client IP may start. Default
	// 10 a minute, burst 20.
	AuthorizePerIP ratelimit.Limit
	// Limits is where those limits are counted: in memory (the zero
	// value) or in the database, shared by every server instance.
	Limits ratelimit.Sources
	// MaxPending bounds the sign-ins waiting (not yet expired) at once,
	// whoever started them; beyond it a start answers slow_down. Default
	// 10,000.
	MaxPending int
	Now        func() time.Time // default time.Now
	Logger     *slog.Logger
}

// Service is the browser sign-in over a store.DB; devices activates the
// computers it approves.
type Service struct {
	db         *store.DB
	devices    *devices.Service
	cfg        Config
	now        func() time.Time
	log        *slog.Logger
	userCodeIP ratelimit.Counter
	startIP    ratelimit.Counter
}

// New returns a Service.
func New(db *store.DB, devs *devices.Service, cfg Config) (*Service, error) {
	if db == nil || devs == nil {
		return nil, errors.New("deviceauth: nil database or devices")
	}
	if cfg.DeviceCodeTTL <= 0 {
		cfg.DeviceCodeTTL = 10 * time.Minute
	}
	if cfg.DevicePollInterval <= 0 {
		cfg.DevicePollInterval = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.UserCodeFailuresPerIP = cfg.UserCodeFailuresPerIP.OrDefault(10, 10)
	cfg.AuthorizePerIP = cfg.AuthorizePerIP.OrDefault(10, 20)
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 10000
	}
	return &Service{db: db, devices: devs, cfg: cfg, now: cfg.Now, log: cfg.Logger,
		userCodeIP: cfg.Limits.Counter("deviceauth.user_code_ip", cfg.UserCodeFailuresPerIP),
		startIP:    cfg.Limits.Counter("deviceauth.start_ip", cfg.AuthorizePerIP)}, nil
}

// Info describes a pending browser sign-in, for the page where a person
// approves it. Status is pending, approved, denied, consumed or expired.
type Info struct {
	UserCode           string
	Facts              protocol.DeviceFacts
	Requested, Expires time.Time
	Status             string
}

func errf(code, format string, args ...any) *fault.Error { return fault.Errorf(code, format, args...) }

func invalid(format string, args ...any) *fault.Error { return fault.Invalid(format, args...) }
