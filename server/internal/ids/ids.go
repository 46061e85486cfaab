// Package ids makes the server's random identifiers and bearer secrets, and
// the hash bearer secrets are stored under.
package ids

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// Token returns n random bytes, base64url-encoded.
func Token(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// New returns a random identifier with a type prefix, e.g. "dev_3f2a...".
func New(prefix string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return prefix + "_" + hex.EncodeToString(b[:]), nil
}

// HashSecret is how bearer secrets (device credentials, session tokens,
// device codes) are stored: they are 256-bit random, so a fast hash suffices
// and keeps the check-in path cheap.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// At returns an identifier with a type prefix whose first 48 bits are the
// millisecond of at and whose other 80 bits are random, e.g.
// "dev_019ae3c1f2a4...": the same length as New's, unguessable, and in
// creation order, so a table keyed by it grows at the end of its primary
// key instead of writing into a random page of it (the devices table holds
// millions of rows).
func At(prefix string, at time.Time) (string, error) {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return prefix + "_" + hex.EncodeToString(b[:]), nil
}
