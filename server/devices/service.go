package devices

import (
	"context"
	"errors"
	"log/slog"
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
	return &Service{db: db, accounts: accts, signing: signer, now: cfg.Now, log: cfg.Logger,
		activations: ratelimit.New(cfg.ActivationsPerLicense.OrDefault(10, 20)), commands: cfg.Commands, enrollment: cfg.Enrollment}, nil
}

// leaseLicense is what a lease needs to know about the license.
func leaseLicense(l licenses.License) signing.License {
	return signing.License{ID: l.ID, Plan: l.Plan.Name, OwnerEmail: l.OwnerEmail, Features: l.Plan.Features,
		MaxProfiles: l.Plan.MaxProfiles, TermEnd: l.TermEnd, Subscription: l.Subscription, Mgmt: l.ManagementMode}
}

func errf(code, format string, args ...any) *fault.Error { return fault.Errorf(code, format, args...) }

func invalid(format string, args ...any) *fault.Error { return fault.Invalid(format, args...) }
