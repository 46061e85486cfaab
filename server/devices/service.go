package devices

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ratelimit"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/signing"
	"github.com/entitle/entitle/server/store"
)

// Device is an activation of a license on one computer.
type Device struct {
	ID, LicenseID, LicenseKey, Fingerprint string
	Facts                                  protocol.DeviceFacts
	ActivatedAt, LastSeen                  time.Time
	Active                                 bool
	Profiles                               *protocol.ProfileSummary
}

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	// ActivationsPerLicense bounds activation churn on one license
	// (re-activations included). Default 10 a minute, burst 20.
	ActivationsPerLicense ratelimit.Limit
	Now                   func() time.Time // default time.Now
	Logger                *slog.Logger
	// CheckinBatch is the most check-ins written in one transaction
	// (default DefaultCheckinBatch); 1 writes each on its own, without the
	// batcher.
	CheckinBatch int
	// CheckinWait is how long a batch waits for more check-ins after the
	// first (default 0: none; a batch is what queued while the previous
	// one was written, which costs a lone check-in no latency).
	CheckinWait time.Duration
	// Commands exchanges remote commands in check-ins (package commands);
	// nil: check-ins deliver none.
	Commands Exchanger
	// Enrollment resolves workspace enrollment tokens (package
	// workspaces); nil: the enrollment_token method is refused.
	Enrollment Enroller
}

// Enroller turns an enrollment token into the license to activate on,
// counting one use, within the activation's transaction.
type Enroller interface {
	Enroll(ctx context.Context, tx *store.Tx, token string) (licenses.License, error)
}

// Exchanger records the command outcomes a computer reports and returns its
// open commands.
type Exchanger interface {
	Exchange(ctx context.Context, deviceID string, results []protocol.CommandResult) ([]protocol.Command, error)
}

// Service is the devices domain over a store.DB. It signs leases with
// signing and checks passwords with accounts.
type Service struct {
	db          *store.DB
	accounts    *accounts.Service
	signing     *signing.Service
	now         func() time.Time
	log         *slog.Logger
	activations *ratelimit.Limiters
	batch       *batcher // nil: each check-in written on its own
	licenses    licenseCache
	commands    Exchanger
	enrollment  Enroller
}

// New returns a Service.
func New(db *store.DB, accts *accounts.Service, signer *signing.Service, cfg Config) (*Service, error) {
	if db == nil || accts == nil || signer == nil {
		return nil, errors.New("devices: nil database, accounts or signing")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CheckinBatch == 0 {
		cfg.CheckinBatch = DefaultCheckinBatch
	}
	s := &Service{db: db, accounts: accts, signing: signer, now: cfg.Now, log: cfg.Logger,
		activations: ratelimit.New(cfg.ActivationsPerLicense.OrDefault(10, 20)), commands: cfg.Commands, enrollment: cfg.Enrollment}
	if cfg.CheckinBatch > 1 {
		workers := 1 // SQLite has one writer
		if db.Dialect() == store.Postgres {
			// As many as the pool's connections: while check-ins are
			// few, each is written at once on its own connection, as
			// without the batcher; under load, batches form.
			workers = 4 * runtime.GOMAXPROCS(0)
		}
		s.batch = newBatcher(db, cfg.CheckinBatch, cfg.CheckinWait, workers)
	}
	return s, nil
}

// Close stops the check-in batcher after writing and answering the
// check-ins it holds. Check-ins after Close are written one by one. Close
// the Service before its database.
func (s *Service) Close() {
	if s.batch != nil {
		s.batch.close()
	}
}

// leaseLicense is what a lease needs to know about the license.
func leaseLicense(l licenses.License) signing.License {
	return signing.License{ID: l.ID, Plan: l.Plan.Name, OwnerEmail: l.OwnerEmail, Features: l.Plan.Features,
		MaxProfiles: l.Plan.MaxProfiles, TermEnd: l.TermEnd, Subscription: l.Subscription, Mgmt: l.ManagementMode}
}

func errf(code, format string, args ...any) *fault.Error { return fault.Errorf(code, format, args...) }

func invalid(format string, args ...any) *fault.Error { return fault.Invalid(format, args...) }
