// Package ids makes the server's random identifiers and bearer secrets, and
// the hash bearer secrets are stored under.
package ids

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
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
