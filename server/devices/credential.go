package devices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/internal/ids"
)

// A device credential is "<device id>.<secret>": the device it belongs to,
// found by primary key, then the SHA-256 of the whole credential compared
// with the hash stored on the device (a selector and a verifier). No index
// over the hashes is needed, so an activation writes into none at a random
// place. Credentials issued before they named their device (a bare secret,
// without a dot) are mapped to their device by device_legacy_credentials
// (migration 00022).

// maxSelector bounds the device id a credential names.
const maxSelector = 64

// credential is a presented device credential: the device it names and
// the hash that device must hold.
type credential struct {
	deviceID, hash string
}

// newCredential returns a new credential of device deviceID.
func newCredential(deviceID string) (string, error) {
	secret, err := ids.Token(32)
	if err != nil {
		return "", err
	}
	return deviceID + "." + secret, nil
}

// credentialOf finds the device a presented credential names: in the
// credential, or for one issued before credentials named their device, in
// device_legacy_credentials. A malformed or unknown one is errBadCredential;
// whether the device holds it is for the caller's statement to check.
func (s *Service) credentialOf(ctx context.Context, presented string) (credential, error) {
	if check.Secret("credential", presented) != nil {
		return credential{}, errBadCredential()
	}
	c := credential{hash: ids.HashSecret(presented)}
	if id, named, ok := splitCredential(presented); !ok {
		return credential{}, errBadCredential()
	} else if named {
		c.deviceID = id
		return c, nil
	}
	err := s.db.QueryRow(ctx, "SELECT device_id FROM device_legacy_credentials WHERE credential_hash = ?", c.hash).Scan(&c.deviceID)
	if errors.Is(err, sql.ErrNoRows) {
		return credential{}, errBadCredential()
	}
	if err != nil {
		return credential{}, fmt.Errorf("look up credential: %w", err)
	}
	return c, nil
}

// splitCredential returns the device id a credential names (named), or
// says it is of the form before (a bare secret: not named); ok is false for
// a credential of neither form.
func splitCredential(presented string) (deviceID string, named, ok bool) {
	id, secret, named := strings.Cut(presented, ".")
	if !named {
		return "", false, presented != ""
	}
	if !isSelector(id) || secret == "" {
		return "", true, false
	}
	return id, true, true
}

// isSelector reports whether s can be a device id: lower-case letters,
// digits and underscores, as ids.New and ids.At make them.
func isSelector(s string) bool {
	if s == "" || len(s) > maxSelector {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
