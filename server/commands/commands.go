// Package commands owns the remote commands an administrator sends to a
// computer: queuing (refused for a computer whose management mode is local,
// and when a command of the same type is still open), delivery in check-in
// answers, the agent's reports, expiry, and the list of a device's commands.
// Each transition writes its journal row in the transaction that makes it.
//
// Three types change the device on the server when they are queued, so the
// server is the authority even when the computer is offline: deactivate frees
// the seat at once (the computer learns it at its next check-in, which the
// push makes immediate), suspend and resume set the device's own suspension,
// which its check-ins honour. The command then tells the agent now.
package commands

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/internal/column"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
)

// TTL bounds: a command not acknowledged within its time to live expires.
const (
	DefaultTTL = 24 * time.Hour
	MaxTTL     = 30 * 24 * time.Hour
	MinTTL     = time.Minute
)

// ReleaseFunc frees a device's seat within tx, journaling it under action (an
// empty action: not journaled, the caller journals the change it is part of)
// (package devices provides it).
type ReleaseFunc func(ctx context.Context, tx *store.Tx, deviceID, actor, action string, details map[string]any) error

// Notifier tells a connected computer to check in now (package push). It is
// called after the queuing transaction committed.
type Notifier interface {
	Notify(ctx context.Context, deviceID string)
}

// Config configures a Service.
type Config struct {
	Release ReleaseFunc // required
	Notify  Notifier    // nil: computers learn at their scheduled check-in
	Now     func() time.Time
	Logger  *slog.Logger
}

// Service is the commands domain.
type Service struct {
	db      *store.DB
	release ReleaseFunc
	notify  Notifier
	now     func() time.Time
	log     *slog.Logger
}

// New returns a Service.
func New(db *store.DB, cfg Config) (*Service, error) {
	if db == nil || cfg.Release == nil {
		return nil, errors.New("commands: nil database or release")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, release: cfg.Release, notify: cfg.Notify, now: cfg.Now, log: cfg.Logger}, nil
}

// Queue asks for one command.
type Queue struct {
	DeviceID     string
	Type         string
	Args         map[string]string
	TTL          time.Duration // 0: DefaultTTL
	Actor        string        // journal actor, e.g. "account:acc_1", "operator"
	Organization string        // the organization acting, "" for an account owner or the operator
}

// Record is a command as stored.
type Record struct {
	ID           string            `json:"id"`
	DeviceID     string            `json:"device_id"`
	Organization string            `json:"organization,omitempty"`
	Type         string            `json:"type"`
	Args         map[string]string `json:"args,omitempty"`
	Status       string            `json:"status"`
	CreatedBy    string            `json:"created_by"`
	CreatedAt    time.Time         `json:"created_at"`
	ExpiresAt    time.Time         `json:"expires_at"`
	DeliveredAt  *time.Time        `json:"delivered_at,omitempty"`
	CompletedAt  *time.Time        `json:"completed_at,omitempty"`
	ResultCode   string            `json:"result_code,omitempty"`
	ResultArgs   map[string]string `json:"result_args,omitempty"`
}

func errf(code, format string, args ...any) *fault.Error { return fault.Errorf(code, format, args...) }

// Enqueue queues q. A device whose management mode is local refuses remote
// commands (protocol.ErrLocalOnly); a second open command of one type for
// one device is refused (protocol.ErrCommandPending), which makes a retried
// request harmless.
func (s *Service) Enqueue(ctx context.Context, q Queue) (Record, error) {
	if err := check.Secret("device id", q.DeviceID); err != nil {
		return Record{}, err
	}
	ttl, err := validCommand(q.Type, q.Args, q.TTL)
	if err != nil {
		return Record{}, err
	}
	rec, err := s.newRecord(q.DeviceID, q.Organization, q.Type, q.Args, q.Actor, ttl)
	if err != nil {
		return Record{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var (
			mode        string
			deactivated sql.NullInt64
		)
		// The license row is locked first, the order activations and
		// deactivations use, so they cannot deadlock on PostgreSQL.
		err := tx.QueryRow(ctx, `SELECT l.management_mode, d.deactivated_at FROM licenses l JOIN devices d ON d.license_id = l.id
			WHERE d.id = ?`+licenses.Lock(tx), q.DeviceID).Scan(&mode, &deactivated)
		if errors.Is(err, sql.ErrNoRows) {
			return errf(protocol.ErrNotFound, "there is no device %s", check.Truncate(q.DeviceID, 64))
		}
		if err != nil {
			return fmt.Errorf("look up device: %w", err)
		}
		if deactivated.Valid {
			return errf(protocol.ErrDeviceRevoked, "device %s is deactivated", q.DeviceID)
		}
		if mode == licenses.ManagedLocal {
			return errf(protocol.ErrLocalOnly, "device %s is managed locally only: it takes no remote commands", q.DeviceID)
		}
		return s.insert(ctx, tx, &rec, true)
	})
	if err != nil {
		return Record{}, err
	}
	if s.notify != nil && rec.Status == protocol.CommandPending {
		s.notify.Notify(ctx, rec.DeviceID)
	}
	return rec, nil
}

// validCommand checks a command's type and arguments (the agent's own
// check) and its time to live, returning the TTL to use.
func validCommand(typ string, args map[string]string, ttl time.Duration) (time.Duration, error) {
	if err := (protocol.Command{ID: "new", Type: typ, Args: args}).Validate(); err != nil {
		return 0, fault.Invalid("%v", err)
	}
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if ttl < MinTTL || ttl > MaxTTL {
		return 0, fault.Invalid("the time to live must be between %s and %s", MinTTL, MaxTTL)
	}
	return ttl, nil
}

func (s *Service) newRecord(deviceID, org, typ string, args map[string]string, actor string, ttl time.Duration) (Record, error) {
	now := s.now()
	id, err := ids.At("cmd", now)
	if err != nil {
		return Record{}, err
	}
	return Record{ID: id, DeviceID: deviceID, Organization: org, Type: typ, Args: args,
		Status: protocol.CommandPending, CreatedBy: actor, CreatedAt: now.UTC(), ExpiresAt: now.Add(ttl).UTC()}, nil
}

// insert stores rec within tx and applies what its type changes on the
// server. With journaled, it writes the command's journal row; without,
// the caller journals the change it is part of (a bulk request).
func (s *Service) insert(ctx context.Context, tx *store.Tx, rec *Record, journaled bool) error {
	ms := store.Millis(rec.CreatedAt)
	details := map[string]any{"device": rec.DeviceID, "type": rec.Type}
	switch rec.Type {
	case protocol.CmdDeactivate:
		// The seat is freed now; the computer learns it at its next
		// check-in. The command is done when queued.
		rec.Status, rec.CompletedAt = protocol.CommandSucceeded, &rec.CreatedAt
		details["command"] = rec.ID
		action := "command.deactivate"
		if !journaled {
			action = ""
		}
		if err := s.release(ctx, tx, rec.DeviceID, rec.CreatedBy, action, details); err != nil {
			return err
		}
	case protocol.CmdSuspend:
		if _, err := tx.Exec(ctx, "UPDATE devices SET suspended_at = ? WHERE id = ? AND suspended_at IS NULL", ms, rec.DeviceID); err != nil {
			return fmt.Errorf("suspend device: %w", err)
		}
	case protocol.CmdResume:
		if _, err := tx.Exec(ctx, "UPDATE devices SET suspended_at = NULL WHERE id = ?", rec.DeviceID); err != nil {
			return fmt.Errorf("resume device: %w", err)
		}
	}
	var completed any
	if rec.CompletedAt != nil {
		completed = ms
	}
	_, err := tx.Exec(ctx, `INSERT INTO device_commands (id, device_id, organization_id, type, args, status, created_by,
		created_at, expires_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rec.ID, rec.DeviceID, rec.Organization, rec.Type, argsJSON(rec.Args), rec.Status, rec.CreatedBy,
		ms, store.Millis(rec.ExpiresAt), completed)
	if store.IsUniqueViolation(err) {
		return errf(protocol.ErrCommandPending, "device %s already has a %s command waiting", rec.DeviceID, rec.Type)
	}
	if err != nil {
		return fmt.Errorf("queue command: %w", err)
	}
	if rec.Status != protocol.CommandPending {
		return nil // deactivate: journaled by the release
	}
	if _, err := tx.Exec(ctx, "UPDATE devices SET open_commands = open_commands + 1 WHERE id = ?", rec.DeviceID); err != nil {
		return fmt.Errorf("count open command: %w", err)
	}
	if !journaled {
		return nil
	}
	return journal.Record(ctx, tx, journal.Entry{At: rec.CreatedAt, Actor: rec.CreatedBy, Organization: rec.Organization,
		Action: "command.queue", Target: rec.ID, Details: details})
}

func argsJSON(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	return column.JSON(m)
}

func parseArgs(s string) map[string]string {
	var m map[string]string
	if json.Unmarshal([]byte(s), &m) != nil || len(m) == 0 {
		return nil
	}
	return m
}
