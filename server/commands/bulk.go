package commands

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/internal/column"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
)

// Bulk asks for one command on many of an organization's computers.
type Bulk struct {
	Organization string // required: only its computers are commanded
	Actor        string
	Key          string // the idempotency key, unique per organization
	Type         string
	Args         map[string]string
	TTL          time.Duration
	// DeviceIDs names the computers; when nil, Resolve selects them (a
	// filter), called only when the request is not a retry.
	DeviceIDs []string
	Resolve   func(ctx context.Context) ([]string, error)
	// Selection is what the request named (its ids or its filter), part of
	// the fingerprint a retry must match.
	Selection any
}

// BulkResult is one computer's outcome: queued (CommandID set) or refused
// with Code.
type BulkResult struct {
	DeviceID  string `json:"device_id"`
	CommandID string `json:"command_id,omitempty"`
	Code      string `json:"code,omitempty"`
}

// BulkOutcome is a bulk request's answer, as stored for its retries.
type BulkOutcome struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Results  []BulkResult `json:"results"`
	Replayed bool         `json:"-"`
}

// errRetried: the key's row appeared during the request (a concurrent retry
// committed first); the stored outcome is the answer.
var errRetried = errors.New("commands: bulk request retried concurrently")

// EnqueueBulk queues b's command for each of its computers in one
// transaction, with one journal row (command.bulk) naming the computers and
// their outcomes; a computer that cannot take it (not the organization's,
// deactivated, local only, the same type still open) is refused on its own
// without failing the others. The outcome is stored under b.Key: a retry
// with the same key and request answers it again (Replayed) and changes
// nothing; the same key with another request is refused
// (adminapi.ErrIdempotencyReused).
func (s *Service) EnqueueBulk(ctx context.Context, b Bulk) (BulkOutcome, error) {
	if err := check.Secret("organization", b.Organization); err != nil {
		return BulkOutcome{}, err
	}
	ttl, err := validCommand(b.Type, b.Args, b.TTL)
	if err != nil {
		return BulkOutcome{}, err
	}
	if b.Key == "" || len(b.Key) > adminapi.MaxIdempotencyKey {
		return BulkOutcome{}, errf(protocol.ErrInvalidRequest, "an idempotency key of 1 to %d bytes is required", adminapi.MaxIdempotencyKey)
	}
	fp, err := fingerprint(b, ttl)
	if err != nil {
		return BulkOutcome{}, err
	}
	if out, ok, err := s.storedBulk(ctx, b.Organization, b.Key, fp); err != nil || ok {
		return out, err
	}
	devs := b.DeviceIDs
	if devs == nil && b.Resolve != nil {
		if devs, err = b.Resolve(ctx); err != nil {
			return BulkOutcome{}, err
		}
	}
	if len(devs) == 0 {
		return BulkOutcome{}, errf(protocol.ErrInvalidRequest, "the request selects no computer")
	}
	if len(devs) > adminapi.MaxBulkDevices {
		return BulkOutcome{}, errf(adminapi.ErrTooManyDevices, "the request selects %d computers; at most %d", len(devs), adminapi.MaxBulkDevices)
	}
	id, err := ids.New("bulk")
	if err != nil {
		return BulkOutcome{}, err
	}
	out := BulkOutcome{ID: id, Type: b.Type}
	var queued []string
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		// The key first: a concurrent retry waits on it, then finds it taken.
		_, err := tx.Exec(ctx, `INSERT INTO command_bulk_requests (id, organization_id, idempotency_key, request_hash, results,
			created_by, created_at) VALUES (?, ?, ?, ?, '{}', ?, ?)`, id, b.Organization, b.Key, fp, b.Actor, store.Millis(now))
		if store.IsUniqueViolation(err) {
			return errRetried
		}
		if err != nil {
			return fmt.Errorf("store bulk request: %w", err)
		}
		out.Results, queued, err = s.bulkQueue(ctx, tx, b, devs, ttl)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE command_bulk_requests SET results = ? WHERE id = ?", column.JSON(out), id); err != nil {
			return fmt.Errorf("store bulk results: %w", err)
		}
		details := map[string]any{"type": b.Type, "devices": devs, "queued": len(queued), "refused": len(devs) - len(queued)}
		if refused := refusedCodes(out.Results); len(refused) > 0 {
			details["refusals"] = refused
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: b.Actor, Organization: b.Organization, Action: "command.bulk",
			Target: id, Details: details})
	})
	if errors.Is(err, errRetried) {
		out, ok, err := s.storedBulk(ctx, b.Organization, b.Key, fp)
		if err == nil && !ok {
			err = fmt.Errorf("bulk request %q: retried but not stored", b.Key)
		}
		return out, err
	}
	if err != nil {
		return BulkOutcome{}, err
	}
	if s.notify != nil {
		for _, d := range queued {
			s.notify.Notify(ctx, d)
		}
	}
	return out, nil
}

// bulkQueue queues the command for each device within tx. The devices'
// licenses are locked in license id order, the same in every bulk request,
// so two cannot deadlock on PostgreSQL. It returns the outcomes in the
// request's order and the devices to nudge.
func (s *Service) bulkQueue(ctx context.Context, tx *store.Tx, b Bulk, devs []string, ttl time.Duration) ([]BulkResult, []string, error) {
	license := make(map[string]string, len(devs))
	args := make([]any, 0, len(devs)+1)
	args = append(args, b.Organization)
	for _, d := range devs {
		args = append(args, d)
	}
	rows, err := tx.Query(ctx, "SELECT id, license_id FROM devices WHERE organization_id = ? AND id IN (?"+
		strings.Repeat(", ?", len(devs)-1)+")", args...)
	if err != nil {
		return nil, nil, fmt.Errorf("look up devices: %w", err)
	}
	for rows.Next() {
		var id, lic string
		if err := rows.Scan(&id, &lic); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("look up devices: %w", err)
		}
		license[id] = lic
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("look up devices: %w", err)
	}
	order := slices.Clone(devs)
	slices.SortFunc(order, func(x, y string) int {
		if c := strings.Compare(license[x], license[y]); c != 0 {
			return c
		}
		return strings.Compare(x, y)
	})
	byDevice := make(map[string]BulkResult, len(devs))
	var queued []string
	for _, d := range order {
		r := BulkResult{DeviceID: d}
		if _, ok := license[d]; !ok {
			r.Code = protocol.ErrNotFound
		} else if code, err := s.bulkOne(ctx, tx, b, d, ttl, &r); err != nil {
			return nil, nil, err
		} else if code != "" {
			r.Code = code
		} else {
			queued = append(queued, d)
		}
		byDevice[d] = r
	}
	out := make([]BulkResult, 0, len(devs))
	for _, d := range devs {
		out = append(out, byDevice[d])
	}
	return out, queued, nil
}

// bulkOne queues the command for one device, or returns the code refusing
// it. The checks run under the license lock, as Enqueue's, so the unique
// index of open commands is never what refuses (which would abort the
// transaction on PostgreSQL).
func (s *Service) bulkOne(ctx context.Context, tx *store.Tx, b Bulk, deviceID string, ttl time.Duration, r *BulkResult) (string, error) {
	var (
		mode        string
		deactivated sql.NullInt64
		open        int
	)
	err := tx.QueryRow(ctx, `SELECT l.management_mode, d.deactivated_at FROM licenses l JOIN devices d ON d.license_id = l.id
		WHERE d.id = ?`+licenses.Lock(tx), deviceID).Scan(&mode, &deactivated)
	if err != nil {
		return "", fmt.Errorf("look up device: %w", err)
	}
	switch {
	case deactivated.Valid:
		return protocol.ErrDeviceRevoked, nil
	case mode == licenses.ManagedLocal:
		return protocol.ErrLocalOnly, nil
	}
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM device_commands WHERE device_id = ? AND type = ? AND status IN (?, ?)",
		deviceID, b.Type, protocol.CommandPending, protocol.CommandDelivered).Scan(&open); err != nil {
		return "", fmt.Errorf("look up open commands: %w", err)
	}
	if open > 0 {
		return protocol.ErrCommandPending, nil
	}
	rec, err := s.newRecord(deviceID, b.Organization, b.Type, b.Args, b.Actor, ttl)
	if err != nil {
		return "", err
	}
	if err := s.insert(ctx, tx, &rec, false); err != nil {
		return "", err
	}
	r.CommandID = rec.ID
	return "", nil
}

// storedBulk returns the stored outcome of the organization's request with
// key, if any; a stored request with another fingerprint is refused.
func (s *Service) storedBulk(ctx context.Context, org, key, fp string) (BulkOutcome, bool, error) {
	var hash, results string
	err := s.db.QueryRow(ctx, "SELECT request_hash, results FROM command_bulk_requests WHERE organization_id = ? AND idempotency_key = ?",
		org, key).Scan(&hash, &results)
	if errors.Is(err, sql.ErrNoRows) {
		return BulkOutcome{}, false, nil
	}
	if err != nil {
		return BulkOutcome{}, false, fmt.Errorf("look up bulk request: %w", err)
	}
	if hash != fp {
		return BulkOutcome{}, false, errf(adminapi.ErrIdempotencyReused,
			"the idempotency key %q was used for another request; use a new key for a new request", check.Truncate(key, 64))
	}
	var out BulkOutcome
	if err := json.Unmarshal([]byte(results), &out); err != nil {
		return BulkOutcome{}, false, fmt.Errorf("bulk request %q: results: %w", key, err)
	}
	out.Replayed = true
	return out, true, nil
}

// fingerprint is the hash of what a bulk request asks, which its retries
// must repeat.
func fingerprint(b Bulk, ttl time.Duration) (string, error) {
	sel := b.Selection
	if sel == nil {
		sel = b.DeviceIDs
	}
	raw, err := json.Marshal(struct {
		Selection any               `json:"selection"`
		Type      string            `json:"type"`
		Args      map[string]string `json:"args"`
		TTL       int64             `json:"ttl"`
	}{sel, b.Type, b.Args, int64(ttl / time.Second)})
	if err != nil {
		return "", fmt.Errorf("bulk request: %w", err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

func refusedCodes(rs []BulkResult) map[string]string {
	m := map[string]string{}
	for _, r := range rs {
		if r.Code != "" {
			m[r.DeviceID] = r.Code
		}
	}
	return m
}
