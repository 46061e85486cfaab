package licensing

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/server/store"
)

// activeKey is the signer leases are issued with, cached so check-ins never
// read keys from the database.
type activeKey struct {
	signer *lease.Signer
}

func (s *Service) loadOrCreateKey(ctx context.Context) error {
	s.keyMu.Lock()
	k, err := s.loadActiveKey(ctx, "")
	s.keyMu.Unlock()
	if err != nil {
		return err
	}
	if k != nil {
		s.signer.Store(k)
		return nil
	}
	if _, err := s.addKey(ctx, "system", "key.create"); err != nil {
		return err
	}
	return nil
}

// loadActiveKey returns the newest active key, or nil if there is none or if
// it is the key with id known (so an unchanged key is not decoded again). Two
// servers starting at once on an empty database may each create a key; both
// stay published and each server signs with the newest.
func (s *Service) loadActiveKey(ctx context.Context, known string) (*activeKey, error) {
	var kid, enc string
	err := s.db.QueryRow(ctx, "SELECT kid, private_key FROM signing_keys WHERE active = ? ORDER BY created_at DESC, kid DESC LIMIT 1", true).Scan(&kid, &enc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load signing key: %w", err)
	}
	if kid == known {
		return nil, nil
	}
	seed, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("load signing key %s: stored key is corrupt", kid)
	}
	signer, err := lease.NewSigner(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		return nil, fmt.Errorf("load signing key %s: %w", kid, err)
	}
	return &activeKey{signer: signer}, nil
}

// currentKey returns the key to sign with at now. At most once per
// Config.KeyRefresh, one caller re-reads which key is active, so a rotation
// made by another process or server instance is followed without a restart
// and without a database read per lease; meanwhile everyone, that caller
// included if the read fails, signs with the cached key, which stays
// published and so stays valid.
func (s *Service) currentKey(ctx context.Context, now time.Time) (*activeKey, error) {
	next := s.keyCheckAt.Load()
	if now.UnixNano() >= next && s.keyCheckAt.CompareAndSwap(next, now.Add(s.cfg.KeyRefresh).UnixNano()) {
		// The read serves every later caller too, so it is not cut short
		// by this caller's request ending.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), keyRefreshTimeout)
		err := s.refreshKey(rctx)
		cancel()
		if err != nil {
			s.log.Warn("could not check which lease signing key is active; signing with the cached key", "err", err)
		}
	}
	k := s.signer.Load()
	if k == nil {
		return nil, errors.New("sign lease: no signing key loaded")
	}
	return k, nil
}

// keyRefreshTimeout bounds the active-key read a lease waits for.
const keyRefreshTimeout = 5 * time.Second

// refreshKey caches the active key if it is not the cached one.
func (s *Service) refreshKey(ctx context.Context) error {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	old := s.signer.Load()
	var known string
	if old != nil {
		known = old.signer.KeyID()
	}
	k, err := s.loadActiveKey(ctx, known)
	if err != nil || k == nil {
		return err
	}
	s.signer.Store(k)
	s.log.Info("lease signing key changed in the database; now signing with it", "kid", k.signer.KeyID(), "previous_kid", known)
	return nil
}

// addKey makes a new key the only active one and caches it.
func (s *Service) addKey(ctx context.Context, actor, action string) (string, error) {
	priv, err := lease.GenerateKey()
	if err != nil {
		return "", err
	}
	signer, err := lease.NewSigner(priv)
	if err != nil {
		return "", err
	}
	// Held until the new key is cached, so a concurrent refresh cannot
	// replace it with the key it read before this rotation committed.
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	now := s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE signing_keys SET active = ? WHERE active = ?", false, true); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO signing_keys (kid, public_key, private_key, created_at, active) VALUES (?, ?, ?, ?, ?)",
			signer.KeyID(), lease.EncodePublicKey(signer.Public()), base64.RawURLEncoding.EncodeToString(priv.Seed()), store.Millis(now), true); err != nil {
			return err
		}
		return tx.Audit(ctx, now, actor, action, signer.KeyID(), "{}")
	})
	if err != nil {
		return "", fmt.Errorf("store signing key: %w", err)
	}
	s.signer.Store(&activeKey{signer: signer})
	s.log.Info("lease signing key activated", "kid", signer.KeyID(), "action", action)
	return signer.KeyID(), nil
}

// Keys returns every published verification key, old ones included, so leases
// signed before a rotation stay verifiable until they expire.
func (s *Service) Keys(ctx context.Context) (*lease.KeySet, error) {
	rows, err := s.db.Query(ctx, "SELECT public_key FROM signing_keys ORDER BY created_at")
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	defer rows.Close()
	var pubs []ed25519.PublicKey
	for rows.Next() {
		var enc string
		if err := rows.Scan(&enc); err != nil {
			return nil, fmt.Errorf("list signing keys: %w", err)
		}
		pub, err := lease.DecodePublicKey(enc)
		if err != nil {
			return nil, fmt.Errorf("list signing keys: %w", err)
		}
		pubs = append(pubs, pub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	// The cached signer is always published, even if another server's
	// rotation raced with this read.
	if k := s.signer.Load(); k != nil {
		pubs = append(pubs, k.signer.Public())
	}
	return lease.NewKeySet(pubs...)
}

// RotateKey creates a new signing key for new leases; old keys stay published.
// This Service signs with the new key at once; other Services on the same
// database (other server instances) keep signing with their cached key, still
// published and so still valid, until their next check of the active key,
// within Config.KeyRefresh.
func (s *Service) RotateKey(ctx context.Context) (string, error) {
	return s.addKey(ctx, "admin", "key.rotate")
}

// leaseLicense is what a lease needs to know about the license.
type leaseLicense struct {
	id, plan, ownerEmail string
	features             []string
	maxProfiles          int
	termEnd              time.Time
	subscription         bool
}

// signLease issues a lease for a device at now.
func (s *Service) signLease(ctx context.Context, deviceID, fingerprint, product string, l leaseLicense, now time.Time) (string, error) {
	k, err := s.currentKey(ctx, now)
	if err != nil {
		return "", err
	}
	jti, err := randomToken(16)
	if err != nil {
		return "", err
	}
	exp := now.Add(s.cfg.OfflineGrace)
	if !l.termEnd.IsZero() && l.termEnd.Before(exp) {
		exp = l.termEnd
	}
	var termEnd int64
	if !l.termEnd.IsZero() {
		termEnd = l.termEnd.Unix()
	}
	features := l.features
	if features == nil {
		features = []string{}
	}
	c := lease.Claims{
		Issuer:      s.cfg.Issuer,
		Subject:     deviceID,
		ID:          jti,
		IssuedAt:    now.Unix(),
		NotBefore:   now.Unix(),
		Expiry:      exp.Unix(),
		CheckinAt:   now.Add(s.cfg.CheckinInterval).Unix(),
		Fingerprint: fingerprint,
		Product:     product,
		License: lease.License{
			ID:           l.id,
			Plan:         l.plan,
			Features:     features,
			MaxProfiles:  l.maxProfiles,
			TermEnd:      termEnd,
			Subscription: l.subscription,
		},
		Account: l.ownerEmail,
	}
	tok, err := k.signer.Sign(c)
	if err != nil {
		return "", fmt.Errorf("sign lease for device %s: %w", deviceID, err)
	}
	return tok, nil
}
