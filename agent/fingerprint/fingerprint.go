// Package fingerprint computes this computer's machine fingerprint: the
// HMAC-SHA256 of the product id keyed by the OS machine id, as 64 hex
// characters (machineid.ProtectedID). The raw machine id is never returned,
// stored or sent.
package fingerprint

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/denisbrodbeck/machineid"
)

// Source returns the raw OS machine id.
type Source func() (string, error)

// Fingerprint returns the fingerprint of this computer for productID, from the
// OS machine id (/var/lib/dbus/machine-id or /etc/machine-id on Linux, the
// MachineGuid registry value on Windows, IOPlatformUUID on macOS).
func Fingerprint(productID string) (string, error) {
	return New(machineid.ID).Fingerprint(productID)
}

// Fingerprinter computes fingerprints from an injectable machine-id source.
type Fingerprinter struct {
	src Source
}

// New returns a Fingerprinter reading the machine id from src.
func New(src Source) *Fingerprinter { return &Fingerprinter{src: src} }

// Fingerprint returns HMAC-SHA256(key = machine id, message = productID) in hex.
func (f *Fingerprinter) Fingerprint(productID string) (string, error) {
	if productID == "" {
		return "", errors.New("fingerprint: empty product id")
	}
	if f == nil || f.src == nil {
		return "", errors.New("fingerprint: no machine id source")
	}
	id, err := f.src()
	if err != nil {
		return "", fmt.Errorf("fingerprint: read machine id: %w", err)
	}
	id = strings.TrimSpace(id)
	if len(id) < 8 || len(id) > 256 {
		return "", fmt.Errorf("fingerprint: machine id has %d characters, expected 8 to 256", len(id))
	}
	mac := hmac.New(sha256.New, []byte(id))
	mac.Write([]byte(productID))
	return hex.EncodeToString(mac.Sum(nil)), nil
}
