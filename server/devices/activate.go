package devices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/signing"
	"github.com/entitle/entitle/server/store"
)

// activation is a validated request to put one computer on a license.
type activation struct {
	fingerprint, product string
	facts                protocol.DeviceFacts
	accountID            string // the activating account, "" for a license key
	actor, clientIP      string
	nonce                string // the request's, carried into the lease
}

// Activate puts a computer on a license, by license key or by the email and
// password of the account holding the license.
func (s *Service) Activate(ctx context.Context, req protocol.ActivateRequest, clientIP string) (protocol.ActivateResponse, error) {
	if err := check.Device(req.Fingerprint, req.Product, req.Device); err != nil {
		return protocol.ActivateResponse{}, err
	}
	if req.Nonce != "" && !protocol.ValidNonce(req.Nonce) {
		return protocol.ActivateResponse{}, invalid("nonce must be 16 to %d letters, digits, '-' or '_'", protocol.MaxNonce)
	}
	a := activation{fingerprint: req.Fingerprint, product: req.Product, facts: req.Device, clientIP: clientIP, nonce: req.Nonce}
	switch req.Method {
	case protocol.MethodLicenseKey:
		key, err := licensekey.Normalize(req.LicenseKey)
		if err != nil {
			return protocol.ActivateResponse{}, invalid("%s", licensekey.Mask(err.Error()))
		}
		a.actor = "ip:" + clientIP
		return s.activateTx(ctx, a, func(tx *store.Tx) (activated, error) {
			lic, err := licenses.Scan(tx.QueryRow(ctx, "SELECT "+licenses.Cols+licenses.From+" WHERE l.license_key = ?", key))
			if errors.Is(err, sql.ErrNoRows) {
				return activated{}, errf(protocol.ErrUnknownLicense, "there is no license with the key %s; check the key, or ask whoever gave it to you", licensekey.Mask(licensekey.Format(key)))
			}
			if err != nil {
				return activated{}, fmt.Errorf("look up license: %w", err)
			}
			return s.activateOn(ctx, tx, lic, a)
		})
	case protocol.MethodEnrollment:
		if s.enrollment == nil {
			return protocol.ActivateResponse{}, invalid("this server takes no enrollment tokens")
		}
		a.actor = "ip:" + clientIP
		return s.activateTx(ctx, a, func(tx *store.Tx) (activated, error) {
			lic, err := s.enrollment.Enroll(ctx, tx, req.EnrollmentToken)
			if err != nil {
				return activated{}, err
			}
			return s.activateOn(ctx, tx, lic, a)
		})
	case protocol.MethodPassword:
		acc, err := s.accounts.Login(ctx, req.Email, req.Password, clientIP)
		if err != nil {
			return protocol.ActivateResponse{}, err
		}
		a.accountID, a.actor = acc.ID, "account:"+acc.ID
		return s.activateTx(ctx, a, func(tx *store.Tx) (activated, error) {
			return s.activateAccount(ctx, tx, a, false)
		})
	case "":
		return protocol.ActivateResponse{}, invalid("method is required (%q or %q)", protocol.MethodLicenseKey, protocol.MethodPassword)
	default:
		return protocol.ActivateResponse{}, invalid("unknown activation method %q; use %q or %q", check.Truncate(req.Method, 32), protocol.MethodLicenseKey, protocol.MethodPassword)
	}
}

// activated is an activation written but not yet signed.
type activated struct {
	resp protocol.ActivateResponse
	lic  signing.License
}

// activateTx runs an activation's writes in one transaction, then signs its
// lease after the commit: the seat and the license row are held only for the
// writes, never for the signing. Two first activations of one computer
// racing on the same license meet at the unique index on active
// fingerprints; the loser's transaction rolls back whole (its seat with it)
// and is run again, finding the winner's device.
func (s *Service) activateTx(ctx context.Context, a activation, fn func(*store.Tx) (activated, error)) (protocol.ActivateResponse, error) {
	var out activated
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = s.db.InTx(ctx, func(tx *store.Tx) error {
			out, err = fn(tx)
			return err
		})
		if !store.IsUniqueViolation(err) {
			break
		}
	}
	if err != nil {
		return protocol.ActivateResponse{}, err
	}
	if out.resp.Lease, err = s.signing.SignLease(ctx, out.resp.DeviceID, a.fingerprint, a.product, out.lic, s.now()); err != nil {
		return protocol.ActivateResponse{}, err
	}
	return out.resp, nil
}

// ErrNoSeats is the error of a license with no free seat.
func ErrNoSeats(l licenses.License) *fault.Error {
	return errf(protocol.ErrNoSeats, "all %d seats of license %s are in use; deactivate a device first (run `entitle deactivate` on it, or release it from your account page)",
		l.Seats, licenses.ShortKey(l.Key))
}

// activateOn activates a on lic in tx and returns the response to sign. If
// the computer already holds a seat on lic, its device gets a new credential
// instead of taking a second seat. lic need not be locked: the seat is taken
// by the guarded UPDATE, the first statement that locks the license row (on
// PostgreSQL), so the row is held only for the device insert and the journal
// row after it, and the seat count is exact whatever was read before.
func (s *Service) activateOn(ctx context.Context, tx *store.Tx, lic licenses.License, a activation) (activated, error) {
	now := s.now()
	if err := licenses.Usable(lic, now); err != nil {
		return activated{}, err
	}
	if !s.activations.Allow(lic.ID, now) {
		return activated{}, errf(protocol.ErrRateLimited, "license %s has had too many activations in the last minutes; wait a few minutes and try again", licenses.ShortKey(lic.Key))
	}
	var accountID any
	if a.accountID != "" {
		accountID = a.accountID
	}
	resp := protocol.ActivateResponse{SeatsTotal: lic.Seats, CheckinAfter: s.signing.CheckinAfter()}
	err := tx.QueryRow(ctx, "SELECT id FROM devices WHERE license_id = ? AND fingerprint = ? AND deactivated_at IS NULL",
		lic.ID, a.fingerprint).Scan(&resp.DeviceID)
	if err == nil {
		if resp.Credential, err = newCredential(resp.DeviceID); err != nil {
			return activated{}, err
		}
		resp.Existing = true
		resp.SeatsUsed = lic.SeatsUsed
		var n int64
		n, err = tx.ExecAffected(ctx, `UPDATE devices SET credential_hash = ?, product = ?, hostname = ?, os = ?, arch = ?, agent_version = ?,
			last_seen_at = ?, account_id = COALESCE(?, account_id) WHERE id = ? AND deactivated_at IS NULL`,
			ids.HashSecret(resp.Credential), a.product, a.facts.Hostname, a.facts.OS, a.facts.Arch, a.facts.AgentVersion,
			store.Millis(now), accountID, resp.DeviceID)
		if err != nil {
			return activated{}, fmt.Errorf("re-activate device: %w", err)
		}
		if n == 0 { // deactivated since the lookup: take a new seat
			resp.Existing, resp.DeviceID = false, ""
			err = sql.ErrNoRows
		}
	}
	switch {
	case resp.Existing:
	case errors.Is(err, sql.ErrNoRows):
		// The guarded increment is what enforces the seat count, on both
		// dialects, whatever the caller read before.
		// A license revoked since it was read (its seat assignment
		// released concurrently) takes no seat either.
		err := tx.WriteRow(ctx, "UPDATE licenses SET seats_used = seats_used + 1 WHERE id = ? AND seats_used < seats AND revoked_at IS NULL RETURNING seats_used",
			[]any{&resp.SeatsUsed}, lic.ID)
		if errors.Is(err, sql.ErrNoRows) {
			var revoked sql.NullInt64
			if err := tx.QueryRow(ctx, "SELECT revoked_at FROM licenses WHERE id = ?", lic.ID).Scan(&revoked); err == nil && revoked.Valid {
				lic.Revoked = store.FromMillis(revoked.Int64)
				return activated{}, licenses.ErrRevoked(lic)
			}
			return activated{}, ErrNoSeats(lic)
		}
		if err != nil {
			return activated{}, fmt.Errorf("take a seat: %w", err)
		}
		if resp.DeviceID, err = ids.At("dev", now); err != nil {
			return activated{}, err
		}
		if resp.Credential, err = newCredential(resp.DeviceID); err != nil {
			return activated{}, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO devices (id, license_id, account_id, fingerprint, product, hostname, os, arch, agent_version,
			credential_hash, activated_at, last_seen_at, organization_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE((SELECT organization_id FROM licenses WHERE id = ?), ''))`,
			resp.DeviceID, lic.ID, accountID, a.fingerprint, a.product, a.facts.Hostname, a.facts.OS, a.facts.Arch, a.facts.AgentVersion,
			ids.HashSecret(resp.Credential), store.Millis(now), store.Millis(now), lic.ID); err != nil {
			return activated{}, fmt.Errorf("add device: %w", err)
		}
	default:
		return activated{}, fmt.Errorf("look up device: %w", err)
	}
	action := "device.activate"
	if resp.Existing {
		action = "device.reactivate"
	}
	detail := map[string]any{"license": lic.ID, "fingerprint": a.fingerprint, "hostname": a.facts.Hostname, "seats_used": resp.SeatsUsed}
	if err := journal.Record(ctx, tx, journal.Entry{At: now, Actor: a.actor, Action: action, Target: resp.DeviceID, IP: a.clientIP,
		Organization: lic.OrganizationID, Details: detail}); err != nil {
		return activated{}, err
	}
	ll := leaseLicense(lic)
	ll.Nonce = a.nonce
	return activated{resp: resp, lic: ll}, nil
}

// AccountLicenses returns the account's licenses, oldest first, locked in tx,
// and the license (if any) on which the computer already holds a seat.
func AccountLicenses(ctx context.Context, tx *store.Tx, accountID, fingerprint string) ([]licenses.License, string, error) {
	return accountLicenses(ctx, tx, accountID, fingerprint, true)
}

func accountLicenses(ctx context.Context, tx *store.Tx, accountID, fingerprint string, locked bool) ([]licenses.License, string, error) {
	var (
		lics []licenses.License
		err  error
	)
	if locked {
		lics, err = licenses.OwnedLocked(ctx, tx, accountID)
	} else {
		lics, err = ownedLicenses(ctx, tx, accountID)
	}
	if err != nil {
		return nil, "", fmt.Errorf("list account licenses: %w", err)
	}
	var held string
	err = tx.QueryRow(ctx, `SELECT d.license_id FROM devices d JOIN licenses l ON l.id = d.license_id
		WHERE l.owner_account_id = ? AND d.fingerprint = ? AND d.deactivated_at IS NULL ORDER BY l.created_at, l.id LIMIT 1`,
		accountID, fingerprint).Scan(&held)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("look up device: %w", err)
	}
	return lics, held, nil
}

// ChooseLicenses orders the licenses an account activation may use: the one
// the computer already holds a seat on, else the usable ones oldest first.
// With no candidate it returns the error to show.
func ChooseLicenses(lics []licenses.License, held, email string, now time.Time) ([]licenses.License, error) {
	for _, l := range lics {
		if l.ID == held {
			return []licenses.License{l}, nil
		}
	}
	var candidates []licenses.License
	var firstErr error
	for _, l := range lics {
		if err := licenses.Usable(l, now); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		candidates = append(candidates, l)
	}
	if len(candidates) > 0 {
		return candidates, nil
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, errf(protocol.ErrNoLicense, "the account %s has no license; buy one, or activate with a license key", email)
}

// ActivateAccount activates, in tx, a computer approved by a browser sign-in
// with the license of accountID (as activateAccount).
func (s *Service) ActivateAccount(ctx context.Context, tx *store.Tx, accountID, fingerprint, product string, facts protocol.DeviceFacts) (protocol.ActivateResponse, error) {
	out, err := s.activateAccount(ctx, tx, activation{fingerprint: fingerprint, product: product, facts: facts, accountID: accountID, actor: "account:" + accountID}, true)
	if err != nil {
		return protocol.ActivateResponse{}, err
	}
	if out.resp.Lease, err = s.signing.SignLease(ctx, out.resp.DeviceID, fingerprint, product, out.lic, s.now()); err != nil {
		return protocol.ActivateResponse{}, err
	}
	return out.resp, nil
}

// activateAccount activates a with the account's license: where the computer
// already holds a seat, else the oldest usable license with a free seat.
// locked reads the licenses locked (AccountLicenses), for callers whose
// transaction needs them so; otherwise the guarded seat update is the only
// lock taken.
func (s *Service) activateAccount(ctx context.Context, tx *store.Tx, a activation, locked bool) (activated, error) {
	lics, held, err := accountLicenses(ctx, tx, a.accountID, a.fingerprint, locked)
	if err != nil {
		return activated{}, err
	}
	email := a.accountID
	if len(lics) > 0 {
		email = lics[0].OwnerEmail
	} else if email, err = accounts.EmailOf(ctx, tx, a.accountID); err != nil {
		return activated{}, err
	}
	candidates, err := ChooseLicenses(lics, held, email, s.now())
	if err != nil {
		return activated{}, err
	}
	for _, l := range candidates {
		resp, err := s.activateOn(ctx, tx, l, a)
		if fault.Is(err, protocol.ErrNoSeats) {
			continue // nothing was changed; try the next license
		}
		return resp, err
	}
	return activated{}, ErrNoSeats(candidates[0])
}

// ownedLicenses is licenses.OwnedLocked without the lock.
func ownedLicenses(ctx context.Context, tx *store.Tx, accountID string) ([]licenses.License, error) {
	rows, err := tx.Query(ctx, "SELECT "+licenses.Cols+licenses.From+" WHERE l.owner_account_id = ? ORDER BY l.created_at, l.id", accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var lics []licenses.License
	for rows.Next() {
		l, err := licenses.Scan(rows)
		if err != nil {
			return nil, err
		}
		lics = append(lics, l)
	}
	return lics, rows.Err()
}
