// Package devices owns the computers on licenses: activation (the seat
// claim, by license key or by account password), check-ins that renew their
// leases, deactivation and release, and the device list of an account.
package devices

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/internal/column"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/signing"
	"github.com/entitle/entitle/server/store"
)

func errBadCredential() *fault.Error {
	return errf(protocol.ErrInvalidCredentials, "this computer's activation is not recognized; activate it again")
}

// checkinRow is what the slow path of a check-in reads: the device and its
// license, in one lookup by the device's primary key.
type checkinRow struct {
	deviceID, fingerprint, product string
	facts                          protocol.DeviceFacts
	deactivated, suspended         sql.NullInt64
	openCommands                   int
	lic                            licenses.License
}

const checkinQuery = `SELECT d.id, d.fingerprint, d.product, d.hostname, d.os, d.arch, d.agent_version, d.deactivated_at,
	d.suspended_at, d.open_commands, ` + licenses.Cols + licenses.From + ` JOIN devices d ON d.license_id = l.id WHERE d.id = ? AND d.credential_hash = ?`

// The check-in as one statement: it records the check-in only for an active
// device with this credential and fingerprint on a usable license (the
// conditions of usable, in SQL), and returns what the lease needs. A fact the
// agent left empty keeps its stored value, as mergeFacts does. Both take the
// same arguments: now, hostname, os, arch, agent version, profiles (NULL
// keeps the stored ones), device id, credential hash, fingerprint, then now twice and
// false (not suspended) for the license conditions.
//
// SQLite's RETURNING may only name the updated table, so the license comes
// from correlated subqueries (primary-key lookups); PostgreSQL joins it with
// UPDATE ... FROM, which does not lock the license row.
const (
	checkinUpdateSQLite = `UPDATE devices SET last_seen_at = ?,
	hostname = COALESCE(NULLIF(?, ''), hostname), os = COALESCE(NULLIF(?, ''), os),
	arch = COALESCE(NULLIF(?, ''), arch), agent_version = COALESCE(NULLIF(?, ''), agent_version),
	profiles = COALESCE(?, profiles)
	WHERE id = ? AND credential_hash = ? AND fingerprint = ? AND deactivated_at IS NULL AND suspended_at IS NULL
	AND EXISTS (SELECT 1 FROM licenses l WHERE l.id = devices.license_id
		AND l.term_start <= ? AND (l.term_end IS NULL OR l.term_end > ?) AND l.suspended = ? AND l.revoked_at IS NULL)
	RETURNING id, product, open_commands, license_id, ` + licenseRowSQLite

	checkinUpdatePostgres = `UPDATE devices d SET last_seen_at = ?,
	hostname = COALESCE(NULLIF(?, ''), d.hostname), os = COALESCE(NULLIF(?, ''), d.os),
	arch = COALESCE(NULLIF(?, ''), d.arch), agent_version = COALESCE(NULLIF(?, ''), d.agent_version),
	profiles = COALESCE(?, d.profiles)
	FROM licenses l JOIN accounts a ON a.id = l.owner_account_id
	WHERE d.id = ? AND d.credential_hash = ? AND d.fingerprint = ? AND d.deactivated_at IS NULL AND d.suspended_at IS NULL AND l.id = d.license_id
	AND l.term_start <= ? AND (l.term_end IS NULL OR l.term_end > ?) AND l.suspended = ? AND l.revoked_at IS NULL
	RETURNING d.id, d.product, d.open_commands, l.id, l.plan, l.features, l.max_profiles, l.term_end, l.subscription, l.management_mode, a.email`
)

// Checkin renews a device's lease and records what it reports. It is the hot
// path: one statement that updates and returns the device and its license,
// no password hashing. Only a refusal (unknown credential, deactivated device,
// other fingerprint, unusable license) costs a second lookup, to tell which.
func (s *Service) Checkin(ctx context.Context, presented string, req protocol.CheckinRequest) (protocol.CheckinResponse, error) {
	cred, err := s.credentialOf(ctx, presented)
	if err != nil {
		return protocol.CheckinResponse{}, err
	}
	if err := check.Fingerprint(req.Fingerprint); err != nil {
		return protocol.CheckinResponse{}, err
	}
	if err := check.Facts(req.Device); err != nil {
		return protocol.CheckinResponse{}, err
	}
	if err := check.Profiles(req.Profiles); err != nil {
		return protocol.CheckinResponse{}, err
	}
	now := s.now()
	var profiles any
	if req.Profiles != nil {
		profiles = column.JSON(req.Profiles)
	}
	args := checkinArgs{now: store.Millis(now), hostname: req.Device.Hostname, os: req.Device.OS, arch: req.Device.Arch,
		agentVersion: req.Device.AgentVersion, profiles: profiles, deviceID: cred.deviceID, credentialHash: cred.hash, fingerprint: req.Fingerprint}
	var r checkinResult
	if s.batch != nil {
		it := &checkinItem{args: args, done: make(chan struct{})}
		if err = s.batch.submit(ctx, it); err == nil {
			r = it.res // written before done was closed
		}
		if errors.Is(err, errBatcherClosed) {
			r, err = writeOne(ctx, s.db, args)
		}
	} else {
		r, err = writeOne(ctx, s.db, args)
	}
	if err != nil {
		return protocol.CheckinResponse{}, fmt.Errorf("record check-in: %w", err)
	}
	if !r.found {
		return s.checkinSlow(ctx, cred, req, now, profiles)
	}
	l := r.lic
	if r.licenseRow != "" { // SQLite
		if l, err = s.licenses.license(l.ID, r.licenseRow); err != nil {
			return protocol.CheckinResponse{}, err
		}
	} else {
		if err := json.Unmarshal([]byte(r.features), &l.Features); err != nil {
			return protocol.CheckinResponse{}, fmt.Errorf("license %s: features: %w", l.ID, err)
		}
		if r.termEnd.Valid {
			l.TermEnd = store.FromMillis(r.termEnd.Int64)
		}
	}
	return s.checkinResponse(ctx, r.deviceID, req.Fingerprint, r.product, l, now, r.openCommands, req.CommandResults)
}

// checkinSlow is the check-in of a device the single statement did not
// update: it looks the device up to give the right refusal. Should the lookup
// find nothing to refuse (the device or license changed in between), it
// records the check-in as the single statement would have.
func (s *Service) checkinSlow(ctx context.Context, cred credential, req protocol.CheckinRequest, now time.Time, profiles any) (protocol.CheckinResponse, error) {
	row, err := s.checkinLookup(ctx, cred)
	if err != nil {
		return protocol.CheckinResponse{}, err
	}
	if !row.lic.Revoked.IsZero() && row.fingerprint == req.Fingerprint {
		// Withdrawn by its organization: its devices were released with
		// it, and say why.
		return protocol.CheckinResponse{}, licenses.ErrRevoked(row.lic)
	}
	if row.deactivated.Valid {
		return protocol.CheckinResponse{}, errRevoked(row.deactivated.Int64)
	}
	if row.fingerprint != req.Fingerprint {
		return protocol.CheckinResponse{}, errBadCredential()
	}
	if row.suspended.Valid {
		// The outcomes the computer reports are still recorded (the
		// suspend command's own, typically), then the check-in is refused.
		if s.commands != nil && len(req.CommandResults) > 0 {
			if _, err := s.commands.Exchange(ctx, row.deviceID, req.CommandResults); err != nil {
				return protocol.CheckinResponse{}, err
			}
		}
		return protocol.CheckinResponse{}, errf(protocol.ErrDeviceSuspended,
			"an administrator suspended this computer on %s; it keeps its seat and resumes when they resume it",
			store.FromMillis(row.suspended.Int64).Format("2 January 2006 15:04 MST"))
	}
	if err := licenses.Usable(row.lic, now); err != nil {
		return protocol.CheckinResponse{}, err
	}
	facts := mergeFacts(row.facts, req.Device)
	n, err := s.db.Exec(ctx, `UPDATE devices SET last_seen_at = ?, hostname = ?, os = ?, arch = ?, agent_version = ?,
		profiles = COALESCE(?, profiles) WHERE id = ? AND deactivated_at IS NULL AND suspended_at IS NULL`,
		store.Millis(now), facts.Hostname, facts.OS, facts.Arch, facts.AgentVersion, profiles, row.deviceID)
	if err != nil {
		return protocol.CheckinResponse{}, fmt.Errorf("record check-in: %w", err)
	}
	if affected, err := n.RowsAffected(); err != nil {
		return protocol.CheckinResponse{}, fmt.Errorf("record check-in: %w", err)
	} else if affected == 0 {
		// Deactivated (or suspended) between the read and the update:
		// the next check-in tells which.
		return protocol.CheckinResponse{}, errRevoked(store.Millis(now))
	}
	s.log.DebugContext(ctx, "check-in recorded on the slow path: the device or its license changed during the check-in", "device", row.deviceID)
	return s.checkinResponse(ctx, row.deviceID, row.fingerprint, row.product, leaseLicense(row.lic), now, row.openCommands, req.CommandResults)
}

// checkinResponse signs the lease and, only for a device with open commands
// or outcomes to report (nearly none of the check-ins), exchanges them.
func (s *Service) checkinResponse(ctx context.Context, deviceID, fingerprint, product string, l signing.License, now time.Time,
	openCommands int, results []protocol.CommandResult) (protocol.CheckinResponse, error) {
	cmds := []protocol.Command{}
	if s.commands != nil && (openCommands > 0 || len(results) > 0) {
		got, err := s.commands.Exchange(ctx, deviceID, results)
		if err != nil {
			return protocol.CheckinResponse{}, err
		}
		cmds = append(cmds, got...)
	}
	tok, err := s.signing.SignLease(ctx, deviceID, fingerprint, product, l, now)
	if err != nil {
		return protocol.CheckinResponse{}, err
	}
	return protocol.CheckinResponse{Lease: tok, Commands: cmds, CheckinAfter: s.signing.CheckinAfter()}, nil
}

func (s *Service) checkinLookup(ctx context.Context, cred credential) (checkinRow, error) {
	var r checkinRow
	var (
		features                string
		termStart, created      int64
		termEnd, revoked        sql.NullInt64
		subscription, suspended bool
	)
	l := &r.lic
	err := s.db.QueryRow(ctx, checkinQuery, cred.deviceID, cred.hash).Scan(
		&r.deviceID, &r.fingerprint, &r.product, &r.facts.Hostname, &r.facts.OS, &r.facts.Arch, &r.facts.AgentVersion, &r.deactivated,
		&r.suspended, &r.openCommands,
		&l.ID, &l.Key, &l.OwnerAccountID, &l.OwnerEmail, &l.Plan.Name, &features, &l.Plan.MaxProfiles,
		&l.Seats, &l.SeatsUsed, &termStart, &termEnd, &subscription, &suspended, &l.ManagementMode, &created,
		&l.OrganizationID, &l.SubscriptionID, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return checkinRow{}, errBadCredential()
	}
	if err != nil {
		return checkinRow{}, fmt.Errorf("look up device: %w", err)
	}
	if err := json.Unmarshal([]byte(features), &l.Plan.Features); err != nil {
		return checkinRow{}, fmt.Errorf("license %s: features: %w", l.ID, err)
	}
	l.Key = licensekey.Format(l.Key)
	l.TermStart = store.FromMillis(termStart)
	if termEnd.Valid {
		l.TermEnd = store.FromMillis(termEnd.Int64)
	}
	l.Subscription, l.Suspended = subscription, suspended
	l.Created = store.FromMillis(created)
	if revoked.Valid {
		l.Revoked = store.FromMillis(revoked.Int64)
	}
	return r, nil
}

// mergeFacts keeps stored facts the agent did not report.
func mergeFacts(old, reported protocol.DeviceFacts) protocol.DeviceFacts {
	pick := func(o, n string) string {
		if n == "" {
			return o
		}
		return n
	}
	return protocol.DeviceFacts{
		Hostname:     pick(old.Hostname, reported.Hostname),
		OS:           pick(old.OS, reported.OS),
		Arch:         pick(old.Arch, reported.Arch),
		AgentVersion: pick(old.AgentVersion, reported.AgentVersion),
	}
}

func errRevoked(atMillis int64) *fault.Error {
	return errf(protocol.ErrDeviceRevoked, "this computer was deactivated on %s; activate it again",
		store.FromMillis(atMillis).Format("2 January 2006 15:04 MST"))
}

// DeactivateSelf is a computer giving up its seat. Deactivating an already
// deactivated device succeeds without changing anything. A computer on a
// license managed remotely may not deactivate itself: only the license owner
// can release it (ReleaseDevice).
func (s *Service) DeactivateSelf(ctx context.Context, presented string) error {
	cred, err := s.credentialOf(ctx, presented)
	if err != nil {
		return err
	}
	var deviceID string
	err = s.db.QueryRow(ctx, "SELECT id FROM devices WHERE id = ? AND credential_hash = ?", cred.deviceID, cred.hash).Scan(&deviceID)
	if errors.Is(err, sql.ErrNoRows) {
		return errBadCredential()
	}
	if err != nil {
		return fmt.Errorf("look up device: %w", err)
	}
	return s.deactivate(ctx, deviceID, "device:"+deviceID, actionSelfDeactivate)
}

// ReleaseDevice is an account owner freeing the seat of any device on their
// licenses, such as a lost computer. Releasing twice is harmless.
func (s *Service) ReleaseDevice(ctx context.Context, accountID, deviceID string) error {
	if err := check.Secret("account id", accountID); err != nil {
		return err
	}
	if err := check.Secret("device id", deviceID); err != nil {
		return err
	}
	if err := s.CheckOwner(ctx, accountID, deviceID); err != nil {
		return err
	}
	return s.deactivate(ctx, deviceID, "account:"+accountID, "device.release")
}

// deactivate frees a device's seat. The license row is locked first, the
// order activations use, so the two cannot deadlock on PostgreSQL; the
// guarded update makes a second deactivation a no-op. The device itself
// (action device.deactivate) may not free the seat of an active device on a
// license managed remotely; the check reads the locked license, so it holds
// even if the mode changes concurrently.
func (s *Service) deactivate(ctx context.Context, deviceID, actor, action string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.deactivateIn(ctx, tx, deviceID, actor, action, nil)
	})
}

// ReleaseIn frees a device's seat within tx, journaled under action with
// details (an administrator's remote deactivation, package commands); an
// empty action writes no row, for a caller that journals the release as part
// of a larger change (a bulk command request). Releasing a deactivated
// device changes nothing.
func (s *Service) ReleaseIn(ctx context.Context, tx *store.Tx, deviceID, actor, action string, details map[string]any) error {
	return s.deactivateIn(ctx, tx, deviceID, actor, action, details)
}

func (s *Service) deactivateIn(ctx context.Context, tx *store.Tx, deviceID, actor, action string, extra map[string]any) error {
	now := s.now()
	var (
		licenseID, mgmt, owner, org string
		deactivated                 sql.NullInt64
	)
	err := tx.QueryRow(ctx, `SELECT l.id, l.management_mode, a.email, d.deactivated_at, d.organization_id FROM licenses l
		JOIN devices d ON d.license_id = l.id JOIN accounts a ON a.id = l.owner_account_id WHERE d.id = ?`+licenses.Lock(tx),
		deviceID).Scan(&licenseID, &mgmt, &owner, &deactivated, &org)
	if err != nil {
		return fmt.Errorf("look up device license: %w", err)
	}
	if action == actionSelfDeactivate && mgmt == licenses.ManagedRemote && !deactivated.Valid {
		return errf(protocol.ErrManagedRemotely,
			"this computer is managed remotely by %s and cannot deactivate itself; ask your administrator to release it", owner)
	}
	n, err := tx.ExecAffected(ctx, "UPDATE devices SET deactivated_at = ? WHERE id = ? AND deactivated_at IS NULL", store.Millis(now), deviceID)
	if err != nil {
		return fmt.Errorf("deactivate device: %w", err)
	}
	if n == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, "UPDATE licenses SET seats_used = seats_used - 1 WHERE id = ? AND seats_used > 0", licenseID); err != nil {
		return fmt.Errorf("free seat: %w", err)
	}
	if action == "" {
		return nil // the caller journals the release with the rest of its change
	}
	details := map[string]any{"license": licenseID}
	for k, v := range extra {
		details[k] = v
	}
	// A device of an organization's license belongs to its journal.
	return journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Organization: org, Action: action, Target: deviceID, Details: details})
}

// actionSelfDeactivate is the audit action of a device deactivating itself.
const actionSelfDeactivate = "device.deactivate"
