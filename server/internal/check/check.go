// Package check validates the fields clients send the server: bounds,
// shapes, no control characters. Its errors are invalid_request *fault.Error.
package check

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/fault"
)

// Bounds on client-supplied fields.
const (
	maxEmail       = 254
	maxProduct     = 128
	maxHostname    = 255
	maxFactField   = 64
	maxSecret      = 512 // credentials, session tokens, device codes
	maxProfileName = 256
	maxProfileNum  = 1_000_000
)

func invalid(format string, args ...any) *fault.Error { return fault.Invalid(format, args...) }

// NormalizeEmail lower-cases and trims an address and checks its shape: the
// point is catching typos and junk, not RFC 5322 conformance.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	if e == "" {
		return "", invalid("an email address is required")
	}
	if len(e) > maxEmail {
		return "", invalid("the email address is longer than %d characters", maxEmail)
	}
	at := strings.LastIndexByte(e, '@')
	if at < 1 || at == len(e)-1 || strings.Count(e, "@") != 1 {
		return "", invalid("%q is not an email address (expected name@example.com)", e)
	}
	domain := e[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", invalid("%q is not an email address: the part after @ must be a domain such as example.com", e)
	}
	if !utf8.ValidString(e) {
		return "", invalid("the email address is not valid text")
	}
	for _, r := range e {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`<>()[]\,;:"`, r) {
			return "", invalid("the email address contains a character that is not allowed (%q)", string(r))
		}
	}
	return e, nil
}

// Text bounds a free-text field and refuses control characters, so what
// is stored can be shown on a web page or in a terminal as is.
func Text(field, v string, max int, required bool) error {
	if v == "" {
		if required {
			return invalid("%s is required", field)
		}
		return nil
	}
	if len(v) > max {
		return invalid("%s is longer than %d bytes", field, max)
	}
	if !utf8.ValidString(v) {
		return invalid("%s is not valid UTF-8 text", field)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return invalid("%s contains a control character", field)
		}
	}
	return nil
}

// Fingerprint checks a device fingerprint.
func Fingerprint(fp string) error {
	if !lease.ValidFingerprint(fp) {
		return invalid("fingerprint must be 64 lowercase hexadecimal characters")
	}
	return nil
}

// Product checks a product name.
func Product(p string) error {
	if err := Text("product", p, maxProduct, true); err != nil {
		return err
	}
	if strings.ContainsFunc(p, unicode.IsSpace) {
		return invalid("product must not contain spaces")
	}
	return nil
}

// Facts checks device facts.
func Facts(f protocol.DeviceFacts) error {
	if err := Text("device hostname", f.Hostname, maxHostname, false); err != nil {
		return err
	}
	if err := Text("device os", f.OS, maxFactField, false); err != nil {
		return err
	}
	if err := Text("device arch", f.Arch, maxFactField, false); err != nil {
		return err
	}
	return Text("device agent_version", f.AgentVersion, maxFactField, false)
}

// Profiles checks a profile summary; nil is fine.
func Profiles(p *protocol.ProfileSummary) error {
	if p == nil {
		return nil
	}
	for _, n := range []int{p.Total, p.Valid, p.Expiring, p.Expired, p.Invalid, p.Unlicensed} {
		if n < 0 || n > maxProfileNum {
			return invalid("profile counts must be between 0 and %d", maxProfileNum)
		}
	}
	if p.EarliestCertUntil < 0 {
		return invalid("profiles.earliest_cert_until must not be negative")
	}
	return Text("profiles.default", p.Default, maxProfileName, false)
}

// Secret checks the shape of a bearer secret or id.
func Secret(field, v string) error {
	if v == "" || len(v) > maxSecret {
		return invalid("%s is missing or malformed", field)
	}
	return nil
}

// Device checks what a computer says about itself when it asks for a seat.
func Device(fp, product string, facts protocol.DeviceFacts) error {
	if err := Fingerprint(fp); err != nil {
		return err
	}
	if err := Product(product); err != nil {
		return err
	}
	return Facts(facts)
}

// Truncate shortens s to n bytes for quoting it in a message.
func Truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
