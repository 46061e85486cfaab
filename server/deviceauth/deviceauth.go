// Package deviceauth is the RFC 8628 browser sign-in of a computer: the
// computer gets a device code and a user code, a person signed in on the web
// pages approves or denies it, and the computer's next poll activates it with
// the person's license (package devices claims the seat).
package deviceauth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/devices"
	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/internal/column"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
)

// Device authorization statuses (RFC 8628 flow).
const (
	authPending  = "pending"
	authApproved = "approved"
	authDenied   = "denied"
	authConsumed = "consumed"
	authExpired  = "expired" // computed, never stored
)

// userCodeAlphabet has no vowels (no words) and no look-alike characters,
// as RFC 8628 section 6.1 suggests; 20^8 codes is about 2^34.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

const userCodeLen = 8

// maxVerificationURI bounds the URI the HTTP layer hands in.
const maxVerificationURI = 2048

func newUserCode() (string, error) {
	b := make([]byte, userCodeLen)
	out := make([]byte, userCodeLen)
	for i := 0; i < userCodeLen; {
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("user code: %w", err)
		}
		for _, v := range b {
			// Rejection sampling: 240 is the largest multiple of 20 below 256.
			if v < 240 && i < userCodeLen {
				out[i] = userCodeAlphabet[int(v)%len(userCodeAlphabet)]
				i++
			}
		}
	}
	return string(out), nil
}

func formatUserCode(c string) string {
	if len(c) != userCodeLen {
		return c
	}
	return c[:4] + "-" + c[4:]
}

// normalizeUserCode accepts what a person typed: any case, spaces, hyphens.
func normalizeUserCode(s string) (string, error) {
	if len(s) > 64 {
		return "", invalid("the code is too long; it has %d letters, like ABCD-EFGH", userCodeLen)
	}
	var sb strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r == '-' || r == ' ' {
			continue
		}
		if !strings.ContainsRune(userCodeAlphabet, r) {
			return "", invalid("the code contains %q, which never appears in codes; check what the computer shows", string(r))
		}
		sb.WriteRune(r)
	}
	if sb.Len() != userCodeLen {
		return "", invalid("the code has %d letters, like ABCD-EFGH", userCodeLen)
	}
	return sb.String(), nil
}

func seconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }

// maxPollInterval caps the interval slow_down raises a sign-in's to.
const maxPollInterval = time.Minute

// StartDeviceAuth begins a browser sign-in for a computer (RFC 8628 3.1) on
// behalf of clientIP. Starts are limited per clientIP
// (Config.AuthorizePerIP) and in all (Config.MaxPending sign-ins waiting);
// past either it answers slow_down.
func (s *Service) StartDeviceAuth(ctx context.Context, req protocol.DeviceAuthorizeRequest, verificationURI, clientIP string) (protocol.DeviceAuthorizeResponse, error) {
	if err := check.Device(req.Fingerprint, req.Product, req.Device); err != nil {
		return protocol.DeviceAuthorizeResponse{}, err
	}
	allowed, err := s.startIP.Allow(ctx, clientIP, s.now())
	if err != nil {
		return protocol.DeviceAuthorizeResponse{}, err
	}
	if !allowed {
		s.log.WarnContext(ctx, "too many device sign-ins started from this address; refusing more for now", "ip", clientIP)
		return protocol.DeviceAuthorizeResponse{}, errf(protocol.ErrSlowDown, "too many sign-ins were started from your network address; wait a minute and try again")
	}
	u, err := url.Parse(verificationURI)
	if verificationURI == "" || len(verificationURI) > maxVerificationURI || err != nil || !u.IsAbs() {
		return protocol.DeviceAuthorizeResponse{}, fmt.Errorf("device authorization: bad verification URI %q", check.Truncate(verificationURI, 80))
	}
	deviceCode, err := ids.Token(32)
	if err != nil {
		return protocol.DeviceAuthorizeResponse{}, err
	}
	id, err := ids.New("dau")
	if err != nil {
		return protocol.DeviceAuthorizeResponse{}, err
	}
	now := s.now()
	var userCode string
	for attempt := 0; ; attempt++ {
		if userCode, err = newUserCode(); err != nil {
			return protocol.DeviceAuthorizeResponse{}, err
		}
		err = s.db.InTx(ctx, func(tx *store.Tx) error {
			// The sweep job (Sweep) deletes expired sign-ins, so the rows
			// counted are about those waiting.
			var waiting int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM device_authorizations WHERE expires_at > ?", store.Millis(now)).Scan(&waiting); err != nil {
				return fmt.Errorf("count waiting sign-ins: %w", err)
			}
			if waiting >= s.cfg.MaxPending {
				return errf(protocol.ErrSlowDown, "too many sign-ins are waiting on this server; wait a minute and try again")
			}
			_, err := tx.Exec(ctx, `INSERT INTO device_authorizations (id, device_code_hash, user_code, fingerprint, product, facts,
				created_at, expires_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, ids.HashSecret(deviceCode), userCode, req.Fingerprint, req.Product, column.JSON(req.Device),
				store.Millis(now), store.Millis(now.Add(s.cfg.DeviceCodeTTL)), authPending)
			if err != nil {
				return err
			}
			return journal.Record(ctx, tx, journal.Entry{At: now, Actor: "anonymous", Action: "device_auth.start", Target: id,
				Details: map[string]any{"fingerprint": req.Fingerprint, "hostname": req.Device.Hostname}})
		})
		if store.IsUniqueViolation(err) && attempt < 3 {
			continue // user code collision
		}
		if fault.CodeOf(err) == protocol.ErrSlowDown {
			s.log.WarnContext(ctx, "too many device sign-ins waiting; refusing more for now", "max", s.cfg.MaxPending)
			return protocol.DeviceAuthorizeResponse{}, err
		}
		if err != nil {
			return protocol.DeviceAuthorizeResponse{}, fmt.Errorf("store device authorization: %w", err)
		}
		break
	}
	sep := "?"
	if u.RawQuery != "" {
		sep = "&"
	}
	return protocol.DeviceAuthorizeResponse{
		DeviceCode:              deviceCode,
		UserCode:                formatUserCode(userCode),
		VerificationURI:         verificationURI,
		VerificationURIComplete: verificationURI + sep + "user_code=" + url.QueryEscape(formatUserCode(userCode)),
		ExpiresIn:               seconds(s.cfg.DeviceCodeTTL),
		Interval:                seconds(s.cfg.DevicePollInterval),
	}, nil
}

// deviceAuth is a stored device authorization.
type deviceAuth struct {
	id, userCode, fingerprint, product, status string
	facts                                      protocol.DeviceFacts
	created, expires                           time.Time
	lastPolled                                 time.Time
	accountID                                  string
	interval                                   time.Duration // 0: the configured one
}

type scanner interface{ Scan(...any) error }

const deviceAuthCols = "id, user_code, fingerprint, product, facts, created_at, expires_at, last_polled_at, status, account_id, poll_interval_ms"

func scanDeviceAuth(row scanner) (deviceAuth, error) {
	var (
		d                deviceAuth
		facts            string
		created, expires int64
		polled           sql.NullInt64
		account          sql.NullString
		interval         int64
	)
	if err := row.Scan(&d.id, &d.userCode, &d.fingerprint, &d.product, &facts, &created, &expires, &polled, &d.status, &account, &interval); err != nil {
		return deviceAuth{}, err
	}
	if err := json.Unmarshal([]byte(facts), &d.facts); err != nil {
		return deviceAuth{}, fmt.Errorf("device authorization %s: facts: %w", d.id, err)
	}
	d.created, d.expires = store.FromMillis(created), store.FromMillis(expires)
	if polled.Valid {
		d.lastPolled = store.FromMillis(polled.Int64)
	}
	d.accountID = account.String
	d.interval = time.Duration(interval) * time.Millisecond
	return d, nil
}

func lockRow(tx *store.Tx) string { return tx.ForUpdate() }

func errExpiredToken() *fault.Error {
	return errf(protocol.ErrExpiredToken, "this sign-in request has expired or was already used; start the sign-in again")
}

// PollDeviceAuth is PollDeviceToken without a client_id check.
func (s *Service) PollDeviceAuth(ctx context.Context, deviceCode string) (protocol.ActivateResponse, error) {
	return s.poll(ctx, protocol.DeviceTokenRequest{DeviceCode: deviceCode})
}

// PollDeviceToken is the computer asking whether the person approved (RFC
// 8628 3.4). Once approved, the first poll activates the computer and later polls get expired_token. A poll sooner than
// the sign-in's interval answers slow_down and raises that interval by 5 s.
// req.ClientID must be the product the sign-in was started for.
func (s *Service) PollDeviceToken(ctx context.Context, req protocol.DeviceTokenRequest) (protocol.DeviceTokenResponse, error) {
	if req.ClientID == "" {
		return protocol.DeviceTokenResponse{}, errf(protocol.ErrInvalidClient, "client_id (the product) is missing")
	}
	r, err := s.poll(ctx, req)
	if err != nil {
		return protocol.DeviceTokenResponse{}, err
	}
	return protocol.NewDeviceTokenResponse(r, leaseLifetime(r.Lease, s.now())), nil
}

// leaseLifetime is the seconds left before the lease's exp claim (0 if the
// lease cannot be read; it was signed here a moment ago).
func leaseLifetime(token string, now time.Time) int {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 0
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 0
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Exp <= now.Unix() {
		return 0
	}
	return int(c.Exp - now.Unix())
}

func (s *Service) poll(ctx context.Context, req protocol.DeviceTokenRequest) (protocol.ActivateResponse, error) {
	deviceCode := req.DeviceCode
	if err := check.Secret("device_code", deviceCode); err != nil {
		return protocol.ActivateResponse{}, err
	}
	var (
		resp    protocol.ActivateResponse
		outcome error // returned after the poll time is committed
	)
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := scanDeviceAuth(tx.QueryRow(ctx, "SELECT "+deviceAuthCols+" FROM device_authorizations WHERE device_code_hash = ?"+lockRow(tx), ids.HashSecret(deviceCode)))
		if errors.Is(err, sql.ErrNoRows) {
			outcome = errExpiredToken()
			return nil
		}
		if err != nil {
			return fmt.Errorf("look up device authorization: %w", err)
		}
		now := s.now()
		if d.status == authConsumed || !now.Before(d.expires) {
			outcome = errExpiredToken()
			return nil
		}
		if req.ClientID != "" && req.ClientID != d.product {
			outcome = errf(protocol.ErrInvalidGrant, "this device code was issued for another client_id")
			return nil
		}
		interval := d.interval
		if interval <= 0 {
			interval = s.cfg.DevicePollInterval
		}
		// A fifth of the interval is tolerated so network jitter does not
		// turn a well-behaved client's poll into slow_down.
		tooSoon := !d.lastPolled.IsZero() && now.Sub(d.lastPolled) < interval-interval/5
		if tooSoon {
			interval = min(interval+5*time.Second, maxPollInterval) // RFC 8628 section 3.5
		}
		if _, err := tx.Exec(ctx, "UPDATE device_authorizations SET last_polled_at = ?, poll_interval_ms = ? WHERE id = ?",
			store.Millis(now), interval.Milliseconds(), d.id); err != nil {
			return fmt.Errorf("record poll: %w", err)
		}
		if tooSoon {
			outcome = errf(protocol.ErrSlowDown, "polling too often; wait at least %d seconds between polls", seconds(interval))
			return nil
		}
		switch d.status {
		case authPending:
			outcome = errf(protocol.ErrAuthorizationPending, "waiting for the sign-in to be approved in the browser")
			return nil
		case authDenied:
			outcome = errf(protocol.ErrAccessDenied, "the sign-in was denied in the browser")
			return nil
		}
		r, err := s.devices.ActivateAccount(ctx, tx, d.accountID, d.fingerprint, d.product, d.facts)
		var e *fault.Error
		if errors.As(err, &e) {
			// Nothing was changed by the failed activation; the approval is
			// used up so the computer must start over (after freeing a seat).
			outcome = err
			_, err := tx.Exec(ctx, "UPDATE device_authorizations SET status = ? WHERE id = ?", authConsumed, d.id)
			return err
		}
		if err != nil {
			return err
		}
		n, err := tx.ExecAffected(ctx, "UPDATE device_authorizations SET status = ?, result_device_id = ? WHERE id = ? AND status = ?",
			authConsumed, r.DeviceID, d.id, authApproved)
		if err != nil {
			return fmt.Errorf("consume device authorization: %w", err)
		}
		if n != 1 {
			return errors.New("consume device authorization: it changed under a lock")
		}
		resp = r
		return nil
	})
	if err != nil {
		return protocol.ActivateResponse{}, err
	}
	if outcome != nil {
		return protocol.ActivateResponse{}, outcome
	}
	return resp, nil
}

func (s *Service) deviceAuthByUserCode(ctx context.Context, q func(string, ...any) *sql.Row, userCode string, lock string) (deviceAuth, error) {
	code, err := normalizeUserCode(userCode)
	if err != nil {
		return deviceAuth{}, err
	}
	d, err := scanDeviceAuth(q("SELECT "+deviceAuthCols+" FROM device_authorizations WHERE user_code = ?"+lock, code))
	if errors.Is(err, sql.ErrNoRows) {
		return deviceAuth{}, errf(protocol.ErrNotFound, "no sign-in is waiting for the code %s; check the code shown on the computer", formatUserCode(code))
	}
	if err != nil {
		return deviceAuth{}, fmt.Errorf("look up device authorization: %w", err)
	}
	return d, nil
}

// limitUserCode runs lookup, a lookup by user code on behalf of clientIP,
// counting it as a failure if no sign-in has that code: a user code is all
// that guards a pending sign-in, so guessing codes must be slow. Lookups of
// malformed codes are not counted, as they guess nothing.
func (s *Service) limitUserCode(ctx context.Context, clientIP string, lookup func() error) error {
	now := s.now()
	a, ok, err := s.userCodeIP.Take(ctx, clientIP, now)
	if err != nil {
		return err
	}
	if !ok {
		return errf(protocol.ErrRateLimited, "too many codes that match no computer were entered from your network address; wait a few minutes and try again")
	}
	err = lookup()
	if a.Done(ctx, s.now(), fault.CodeOf(err) == protocol.ErrNotFound) {
		s.log.WarnContext(ctx, "too many unknown device sign-in codes; refusing more from this address for now", "ip", clientIP)
	}
	return err
}

// DeviceAuthInfo describes the sign-in waiting under a user code. Lookups
// that find nothing are limited per clientIP (Config.UserCodeFailuresPerIP).
func (s *Service) DeviceAuthInfo(ctx context.Context, userCode, clientIP string) (Info, error) {
	var d deviceAuth
	err := s.limitUserCode(ctx, clientIP, func() (err error) {
		d, err = s.deviceAuthByUserCode(ctx, func(q string, args ...any) *sql.Row { return s.db.QueryRow(ctx, q, args...) }, userCode, "")
		return err
	})
	if err != nil {
		return Info{}, err
	}
	status := d.status
	if status != authConsumed && status != authDenied && !s.now().Before(d.expires) {
		status = authExpired
	}
	return Info{UserCode: formatUserCode(d.userCode), Facts: d.facts, Requested: d.created, Expires: d.expires, Status: status}, nil
}

// ApproveDeviceAuth lets the computer waiting under userCode activate with
// the account's license. It fails, changing nothing, if the account could not
// activate the computer now, so the person sees why in the browser. Codes
// that match nothing count against clientIP as in DeviceAuthInfo.
func (s *Service) ApproveDeviceAuth(ctx context.Context, userCode, accountID, clientIP string) error {
	return s.limitUserCode(ctx, clientIP, func() error { return s.decideDeviceAuth(ctx, userCode, accountID, authApproved) })
}

// DenyDeviceAuth refuses the sign-in waiting under userCode. Codes that match
// nothing count against clientIP as in DeviceAuthInfo.
func (s *Service) DenyDeviceAuth(ctx context.Context, userCode, accountID, clientIP string) error {
	return s.limitUserCode(ctx, clientIP, func() error { return s.decideDeviceAuth(ctx, userCode, accountID, authDenied) })
}

func (s *Service) decideDeviceAuth(ctx context.Context, userCode, accountID, status string) error {
	if err := check.Secret("account id", accountID); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := s.deviceAuthByUserCode(ctx, func(q string, args ...any) *sql.Row { return tx.QueryRow(ctx, q, args...) }, userCode, lockRow(tx))
		if err != nil {
			return err
		}
		now := s.now()
		if !now.Before(d.expires) {
			return errf(protocol.ErrExpiredToken, "the code %s has expired; start the sign-in again on the computer", formatUserCode(d.userCode))
		}
		if d.status != authPending {
			return invalid("the sign-in with code %s was already %s", formatUserCode(d.userCode), d.status)
		}
		if status == authApproved {
			lics, held, err := devices.AccountLicenses(ctx, tx, accountID, d.fingerprint)
			if err != nil {
				return err
			}
			email, err := accounts.EmailOf(ctx, tx, accountID)
			if err != nil {
				return err
			}
			candidates, err := devices.ChooseLicenses(lics, held, email, s.now())
			if err != nil {
				return err
			}
			if held == "" && !hasFreeSeat(candidates) {
				return devices.ErrNoSeats(candidates[0])
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE device_authorizations SET status = ?, account_id = ? WHERE id = ?", status, accountID, d.id); err != nil {
			return fmt.Errorf("record device authorization decision: %w", err)
		}
		detail := map[string]any{"fingerprint": d.fingerprint, "hostname": d.facts.Hostname}
		action := "device_auth.approve"
		if status == authDenied {
			action = "device_auth.deny"
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: "account:" + accountID, Action: action, Target: d.id, Details: detail})
	})
}

func hasFreeSeat(lics []licenses.License) bool {
	for _, l := range lics {
		if l.SeatsUsed < l.Seats {
			return true
		}
	}
	return false
}

// Sweep deletes up to limit sign-ins that have expired, and reports how many
// it deleted; the server runs it as a background job so the table holds
// about the sign-ins waiting. A late poll of a deleted sign-in still gets
// expired_token.
func (s *Service) Sweep(ctx context.Context, limit int) (int, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *store.Tx) (err error) {
		n, err = tx.ExecAffected(ctx, `DELETE FROM device_authorizations WHERE id IN
			(SELECT id FROM device_authorizations WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`, store.Millis(s.now()), limit)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sweep device authorizations: %w", err)
	}
	return int(n), nil
}
