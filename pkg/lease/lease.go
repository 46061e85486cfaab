// Package lease defines the signed lease: the licensing server's statement that
// one device (identified by its machine fingerprint) may use one license until
// a given time.
//
// A lease is a JWS in compact serialization (RFC 7515) signed with Ed25519
// ("alg":"EdDSA", RFC 8037), with a "kid" naming the signing key and
// "typ":"entitle-lease+jwt" so that no other token signed by the same key can
// pass as a lease. Any language with a JOSE library can verify it; the format is
// documented in docs/lease.md.
package lease

import (
	"errors"
	"fmt"
	"time"
)

// Type is the JOSE "typ" header every lease carries.
const Type = "entitle-lease+jwt"

// Audience is the "aud" claim every lease carries; it is a second, claim-level
// guard against another token type being accepted as a lease.
const Audience = "entitle-lease"

// MaxNonce bounds the "nonce" claim.
const MaxNonce = 128

// MaxTokenSize bounds what Parse accepts before doing any decoding work.
const MaxTokenSize = 16 << 10

// MaxFutureIssue is how far in the future a lease's issue or start time may lie
// before it is rejected: it absorbs ordinary clock skew between server and
// device, while a lease "from the future" beyond it signals a forged clock.
const MaxFutureIssue = 5 * time.Minute

// Errors returned by Parse and Validate. Callers match them with errors.Is.
var (
	ErrMalformed      = errors.New("lease is malformed")
	ErrWrongType      = errors.New("token is not an entitle lease")
	ErrUnknownKey     = errors.New("lease is signed by an unknown key")
	ErrBadSignature   = errors.New("lease signature is invalid")
	ErrWrongDevice    = errors.New("this activation belongs to another computer")
	ErrIssuedInFuture = errors.New("lease is issued in the future")
	ErrNotYetValid    = errors.New("lease is not valid yet")
	ErrExpired        = errors.New("lease has expired")
)

// License describes the license a lease grants.
type License struct {
	ID           string   `json:"id"`
	Plan         string   `json:"plan"`
	Features     []string `json:"features"`
	MaxProfiles  int      `json:"max_profiles"`
	TermEnd      int64    `json:"term_end"` // Unix seconds; 0 means no end
	Subscription bool     `json:"subscription"`
}

// Claims is the payload of a lease. Times are Unix seconds, as in JWT.
type Claims struct {
	Issuer         string  `json:"iss"`
	Subject        string  `json:"sub"` // device id
	Audience       string  `json:"aud"`
	ID             string  `json:"jti"`
	IssuedAt       int64   `json:"iat"`
	NotBefore      int64   `json:"nbf"`
	Expiry         int64   `json:"exp"`
	CheckinAt      int64   `json:"chk"` // when the server asks the device to check in next
	Fingerprint    string  `json:"fpr"`
	Product        string  `json:"product"`
	License        License `json:"license"`
	Account        string  `json:"account,omitempty"`
	Organization   string  `json:"org,omitempty"`
	Workspace      string  `json:"workspace,omitempty"`
	ManagementMode string  `json:"mgmt,omitempty"`
	// Nonce is the activation request's nonce (protocol.ActivateRequest),
	// set only in a lease answering an activation: the agent that asked
	// refuses an answer without its own nonce, so a recorded activation
	// answer cannot be replayed to it. Check-in leases carry none.
	Nonce string `json:"nonce,omitempty"`
}

// DeviceID returns the device id the lease was issued to.
func (c *Claims) DeviceID() string { return c.Subject }

// IssuedTime, ExpiryTime, NotBeforeTime, CheckinTime and TermEndTime convert the
// numeric claims to time.Time. TermEndTime is zero when the license has no end.
func (c *Claims) IssuedTime() time.Time    { return time.Unix(c.IssuedAt, 0) }
func (c *Claims) ExpiryTime() time.Time    { return time.Unix(c.Expiry, 0) }
func (c *Claims) NotBeforeTime() time.Time { return time.Unix(c.NotBefore, 0) }
func (c *Claims) CheckinTime() time.Time   { return time.Unix(c.CheckinAt, 0) }
func (c *Claims) TermEndTime() time.Time {
	if c.License.TermEnd == 0 {
		return time.Time{}
	}
	return time.Unix(c.License.TermEnd, 0)
}

// HasFeature reports whether the leased license includes the named feature.
func (c *Claims) HasFeature(name string) bool {
	for _, f := range c.License.Features {
		if f == name {
			return true
		}
	}
	return false
}

// ValidFingerprint reports whether s has the shape of a machine fingerprint:
// 64 lowercase hex characters (HMAC-SHA256 of the product id keyed by the
// machine id).
func ValidFingerprint(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// checkShape rejects claims that no server would sign: it runs at signing time
// and at parse time, so a token with a valid signature but nonsensical content
// is still refused.
func (c *Claims) checkShape() error {
	switch {
	case c.Audience != Audience:
		return fmt.Errorf("%w: audience %q", ErrWrongType, c.Audience)
	case c.Subject == "":
		return fmt.Errorf("%w: no device id", ErrMalformed)
	case c.ID == "":
		return fmt.Errorf("%w: no lease id", ErrMalformed)
	case !ValidFingerprint(c.Fingerprint):
		return fmt.Errorf("%w: fingerprint is not 64 hex characters", ErrMalformed)
	case c.IssuedAt <= 0 || c.Expiry <= 0 || c.NotBefore <= 0:
		return fmt.Errorf("%w: missing times", ErrMalformed)
	case c.Expiry < c.NotBefore:
		return fmt.Errorf("%w: expires before it starts", ErrMalformed)
	case c.License.ID == "":
		return fmt.Errorf("%w: no license id", ErrMalformed)
	case c.License.MaxProfiles < 0:
		return fmt.Errorf("%w: negative max profiles", ErrMalformed)
	case len(c.Nonce) > MaxNonce:
		return fmt.Errorf("%w: nonce over %d bytes", ErrMalformed, MaxNonce)
	}
	return nil
}

// Validate checks that the (already signature-verified) claims apply to the
// machine with the given fingerprint at time now.
func (c *Claims) Validate(fingerprint string, now time.Time) error {
	if c.Fingerprint != fingerprint {
		return ErrWrongDevice
	}
	if c.IssuedTime().After(now.Add(MaxFutureIssue)) {
		return fmt.Errorf("%w: issued %s", ErrIssuedInFuture, c.IssuedTime().UTC().Format(time.RFC3339))
	}
	// The same skew allowance applies to nbf, which servers set to the issue
	// time: a device whose clock is a little behind must still accept it.
	if now.Add(MaxFutureIssue).Before(c.NotBeforeTime()) {
		return fmt.Errorf("%w: valid from %s", ErrNotYetValid, c.NotBeforeTime().UTC().Format(time.RFC3339))
	}
	if !now.Before(c.ExpiryTime()) {
		return fmt.Errorf("%w: expired %s", ErrExpired, c.ExpiryTime().UTC().Format(time.RFC3339))
	}
	return nil
}
