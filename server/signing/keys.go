// Package signing owns the lease signing keys (create, standby, activate,
// rotate, and following a change made by another server instance) and issues
// the signed leases devices receive.
package signing

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/journal"
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
	if _, err := s.addKey(ctx, "system", "key.create", true); err != nil {
		return err
	}
	return nil
}

// loadActiveKey returns the active key, or nil if there is none or if it is
// the key with id known (so an unchanged key is not decoded again). Two
// servers starting at once on an empty database may each create a key, and
// two rotations at once may each leave theirs active; all of them stay
// published and every server signs with the newest active one.
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
	return decodeKey(kid, enc)
}

// decodeKey turns a stored private key (its base64url seed) into a signer.
func decodeKey(kid, enc string) (*activeKey, error) {
	seed, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("load signing key %s: stored key is corrupt", kid)
	}
	signer, err := lease.NewSigner(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		return nil, fmt.Errorf("load signing key %s: %w", kid, err)
	}
	if signer.KeyID() != kid {
		return nil, fmt.Errorf("load signing key %s: stored key has id %s", kid, signer.KeyID())
	}
	return &activeKey{signer: signer}, nil
}

// currentKey returns the key to sign with at now. At most once per
// Config.KeyRefresh, one caller re-reads which key is active, so a rotation or
// activation made by another process or server instance is followed without a restart
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

// addKey stores a new key, audited as action. With activate it becomes the
// only active key and is cached; otherwise it is a standby key: published,
// not signing.
func (s *Service) addKey(ctx context.Context, actor, action string, activate bool) (string, error) {
	priv, err := lease.GenerateKey()
	if err != nil {
		return "", err
	}
	signer, err := lease.NewSigner(priv)
	if err != nil {
		return "", err
	}
	kid := signer.KeyID()
	if activate {
		// Held until the new key is cached, so a concurrent refresh cannot
		// replace it with the key it read before this rotation committed.
		s.keyMu.Lock()
		defer s.keyMu.Unlock()
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		// A new key is always the newest, even if this process's clock is
		// behind the one that added the last key: the order of created_at
		// is the order keys were added in, which ListKeys reports.
		created := store.Millis(now)
		var newest sql.NullInt64
		if err := tx.QueryRow(ctx, "SELECT MAX(created_at) FROM signing_keys").Scan(&newest); err != nil {
			return err
		}
		if newest.Valid && newest.Int64 >= created {
			created = newest.Int64 + 1
		}
		if _, err := tx.Exec(ctx, "INSERT INTO signing_keys (kid, public_key, private_key, created_at, active) VALUES (?, ?, ?, ?, ?)",
			kid, lease.EncodePublicKey(signer.Public()), base64.RawURLEncoding.EncodeToString(priv.Seed()), created, false); err != nil {
			return err
		}
		if activate {
			if err := setActiveKey(ctx, tx, kid); err != nil {
				return err
			}
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: action, Target: kid})
	})
	if err != nil {
		return "", fmt.Errorf("store signing key: %w", err)
	}
	if !activate {
		s.log.Info("standby lease signing key added; published, not signing", "kid", kid)
		return kid, nil
	}
	s.signer.Store(&activeKey{signer: signer})
	s.log.Info("lease signing key activated", "kid", kid, "action", action)
	return kid, nil
}

// setActiveKey makes kid the only active key. It writes every row, so two
// activations at once on PostgreSQL serialize on the row locks and leave
// exactly one key active.
func setActiveKey(ctx context.Context, tx *store.Tx, kid string) error {
	if _, err := tx.Exec(ctx, "UPDATE signing_keys SET active = (kid = ?)", kid); err != nil {
		return fmt.Errorf("activate signing key %s: %w", kid, err)
	}
	return nil
}

// KeyStatus says what a published signing key is used for.
type KeyStatus string

const (
	// KeyActive signs new leases.
	KeyActive KeyStatus = "active"
	// KeyStandby was added after the active key: by AddStandbyKey, to be
	// pinned on agents and then activated (or it signed before an older
	// key was activated again, to roll back).
	KeyStandby KeyStatus = "standby"
	// KeyRetired was added before the active key: rotated out, or a
	// standby key passed over. Its leases stay verifiable until they
	// expire.
	KeyRetired KeyStatus = "retired"
)

// SigningKey describes a published lease signing key.
type SigningKey struct {
	KID       string
	PublicKey string // base64url Ed25519, as agents pin it
	Created   time.Time
	Status    KeyStatus
}

// ListKeys returns every published signing key, oldest first, with its
// status in the database (which a running server follows within
// Config.KeyRefresh).
func (s *Service) ListKeys(ctx context.Context) ([]SigningKey, error) {
	rows, err := s.db.Query(ctx, "SELECT kid, public_key, created_at, active FROM signing_keys ORDER BY created_at, kid")
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	defer rows.Close()
	var keys []SigningKey
	active := -1
	for rows.Next() {
		var k SigningKey
		var created int64
		var isActive bool
		if err := rows.Scan(&k.KID, &k.PublicKey, &created, &isActive); err != nil {
			return nil, fmt.Errorf("list signing keys: %w", err)
		}
		k.Created = store.FromMillis(created)
		if isActive {
			// The newest active key is the one signing (loadActiveKey).
			active = len(keys)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	for i := range keys {
		switch {
		case i == active:
			keys[i].Status = KeyActive
		case i > active:
			keys[i].Status = KeyStandby
		default:
			keys[i].Status = KeyRetired
		}
	}
	return keys, nil
}

// Keys returns every published verification key, standby and old ones
// included, so agents can pin a key before it signs and leases signed before
// a rotation stay verifiable until they expire.
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

// AddStandbyKey creates a new signing key that is published (Keys, GET
// /v1/keys) but does not sign: the first step of a rotation, so agents can
// pin the key before any lease is signed with it. ActivateKey starts signing
// with it.
func (s *Service) AddStandbyKey(ctx context.Context) (string, error) {
	return s.addKey(ctx, "admin", "key.add", false)
}

// ActivateKey makes the published key kid the signing key; the previously
// active key stays published, so its leases stay valid until they expire.
// Any published key can be activated, an older one too (to roll back). This
// Service signs with it at once; other Services on the same database follow
// within Config.KeyRefresh. An unknown kid is a protocol.ErrNotFound *fault.Error,
// and changes nothing.
func (s *Service) ActivateKey(ctx context.Context, kid string) error {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	now := s.now()
	var k *activeKey
	var previous string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var enc string
		err := tx.QueryRow(ctx, "SELECT private_key FROM signing_keys WHERE kid = ?", kid).Scan(&enc)
		if errors.Is(err, sql.ErrNoRows) {
			return errf(protocol.ErrNotFound, "there is no signing key %q (keys show lists them)", kid)
		}
		if err != nil {
			return fmt.Errorf("look up signing key %s: %w", kid, err)
		}
		if k, err = decodeKey(kid, enc); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, "SELECT kid FROM signing_keys WHERE active = ? ORDER BY created_at DESC, kid DESC LIMIT 1", true).Scan(&previous)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("look up the active signing key: %w", err)
		}
		if err := setActiveKey(ctx, tx, kid); err != nil {
			return err
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: "admin", Action: "key.activate", Target: kid, Details: map[string]any{"previous_kid": previous}})
	})
	if err != nil {
		if _, ok := errors.AsType[*fault.Error](err); ok {
			return err
		}
		return fmt.Errorf("activate signing key %s: %w", kid, err)
	}
	s.signer.Store(k)
	s.log.Info("lease signing key activated", "kid", kid, "previous_kid", previous, "action", "key.activate")
	return nil
}

// RotateKey creates a new signing key and signs with it at once (AddStandbyKey
// and ActivateKey in one step, audited as key.rotate); old keys stay
// published. Agents that have not pinned the new key refuse the leases it
// signs, so this is for emergencies (a compromised key); the safe procedure
// is AddStandbyKey, pin the key on every agent, then ActivateKey.
//
// This Service signs with the new key at once; other Services on the same
// database (other server instances) keep signing with their cached key, still
// published and so still valid, until their next check of the active key,
// within Config.KeyRefresh.
func (s *Service) RotateKey(ctx context.Context) (string, error) {
	return s.addKey(ctx, "admin", "key.rotate", true)
}
