package lease

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Signer signs leases with one Ed25519 key.
type Signer struct {
	kid    string
	key    ed25519.PrivateKey
	header string // base64url protected header: constant per key, so encoded once
}

// NewSigner returns a signer for key; its key id is the RFC 7638 thumbprint of
// the public key, so the id is derived, never chosen, and cannot collide.
func NewSigner(key ed25519.PrivateKey) (*Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("lease signer: key has %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	kid, err := KeyID(key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	hdr, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{"EdDSA", kid, Type})
	if err != nil {
		return nil, fmt.Errorf("lease signer: %w", err)
	}
	return &Signer{kid: kid, key: key, header: base64.RawURLEncoding.EncodeToString(hdr)}, nil
}

// KeyID returns the RFC 7638 JWK thumbprint (SHA-256, base64url) of pub.
func KeyID(pub ed25519.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("lease key id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// KeyID returns the id of the signer's key.
func (s *Signer) KeyID() string { return s.kid }

// Public returns the signer's public key.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign serializes and signs claims. Audience is forced to the lease audience.
func (s *Signer) Sign(c Claims) (string, error) {
	c.Audience = Audience
	if err := c.checkShape(); err != nil {
		return "", fmt.Errorf("sign lease: %w", err)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("sign lease: %w", err)
	}
	// The compact JWS is assembled directly: the check-in hot path signs a lease
	// per request and a general JOSE signer spent a quarter of it re-encoding the
	// constant header. Verification (Parse) stays on go-jose, and the tests
	// check that go-jose accepts what this produces.
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(s.header)+1+enc.EncodedLen(len(payload))+1+enc.EncodedLen(ed25519.SignatureSize))
	buf = append(buf, s.header...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	sig := ed25519.Sign(s.key, buf)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// GenerateKey returns a new Ed25519 private key for signing leases.
func GenerateKey() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate lease key: %w", err)
	}
	return priv, nil
}

// Parse checks the token's size, structure, type header, algorithm, key id and
// signature against keys, and returns its claims. It does not check times or
// the fingerprint: call Claims.Validate (or use Verify) for that.
func Parse(token string, keys *KeySet) (*Claims, error) {
	if len(token) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformed, len(token), MaxTokenSize)
	}
	obj, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(obj.Signatures) != 1 {
		return nil, fmt.Errorf("%w: %d signatures", ErrMalformed, len(obj.Signatures))
	}
	hdr := obj.Signatures[0].Protected
	if typ, _ := hdr.ExtraHeaders[jose.HeaderType].(string); typ != Type {
		return nil, fmt.Errorf("%w: type %q", ErrWrongType, typ)
	}
	pub, ok := keys.lookup(hdr.KeyID)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, hdr.KeyID)
	}
	payload, err := obj.Verify(pub)
	if err != nil {
		return nil, ErrBadSignature
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if err := c.checkShape(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Verify parses token with Parse and validates it for fingerprint at now.
// The returned claims are non-nil whenever the signature is good, even if the
// lease is expired or for another device, so callers can explain why.
func Verify(token string, keys *KeySet, fingerprint string, now time.Time) (*Claims, error) {
	c, err := Parse(token, keys)
	if err != nil {
		return nil, err
	}
	return c, c.Validate(fingerprint, now)
}

// KeySet is a set of trusted (pinned) lease verification keys, by key id.
// It is immutable after construction and safe for concurrent use.
type KeySet struct {
	keys map[string]ed25519.PublicKey
}

// NewKeySet builds a key set from public keys; ids are derived thumbprints.
func NewKeySet(pubs ...ed25519.PublicKey) (*KeySet, error) {
	ks := &KeySet{keys: make(map[string]ed25519.PublicKey, len(pubs))}
	for _, p := range pubs {
		if len(p) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("lease key set: public key has %d bytes, want %d", len(p), ed25519.PublicKeySize)
		}
		kid, err := KeyID(p)
		if err != nil {
			return nil, err
		}
		ks.keys[kid] = p
	}
	return ks, nil
}

func (ks *KeySet) lookup(kid string) (ed25519.PublicKey, bool) {
	if ks == nil {
		return nil, false
	}
	k, ok := ks.keys[kid]
	return k, ok
}

// Len returns the number of keys in the set.
func (ks *KeySet) Len() int {
	if ks == nil {
		return 0
	}
	return len(ks.keys)
}

// MarshalJSON renders the set as a JWK Set (RFC 7517, OKP keys per RFC 8037),
// the body of the server's GET /v1/keys.
func (ks *KeySet) MarshalJSON() ([]byte, error) {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for kid, pub := range ks.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: string(jose.EdDSA), Use: "sig"})
	}
	return json.Marshal(set)
}

// MaxKeySetSize bounds a JWK Set accepted by ParseKeySet.
const MaxKeySetSize = 64 << 10

// ParseKeySet reads a JWK Set, keeping only Ed25519 public keys, and checks
// that every key id is the key's own thumbprint (a key cannot claim another
// key's id).
func ParseKeySet(data []byte) (*KeySet, error) {
	if len(data) > MaxKeySetSize {
		return nil, fmt.Errorf("key set: %d bytes is over the %d byte limit", len(data), MaxKeySetSize)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	var pubs []ed25519.PublicKey
	for _, k := range set.Keys {
		pub, ok := k.Key.(ed25519.PublicKey)
		if !ok {
			continue
		}
		want, err := KeyID(pub)
		if err != nil {
			return nil, err
		}
		if k.KeyID != "" && k.KeyID != want {
			return nil, fmt.Errorf("key set: key id %q does not match its key (%q)", k.KeyID, want)
		}
		pubs = append(pubs, pub)
	}
	if len(pubs) == 0 {
		return nil, errors.New("key set: no Ed25519 keys")
	}
	return NewKeySet(pubs...)
}

// EncodePublicKey and DecodePublicKey convert a public key to and from the
// base64url text used in configuration files ("pinned keys").
func EncodePublicKey(pub ed25519.PublicKey) string { return base64.RawURLEncoding.EncodeToString(pub) }

// DecodePublicKey parses a base64url (unpadded) Ed25519 public key.
func DecodePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key: %d bytes, want %d", len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}
