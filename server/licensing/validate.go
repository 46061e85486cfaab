package licensing

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
)

// Bounds on client-supplied fields.
const (
	maxEmail       = 254
	minPassword    = 8
	maxPassword    = 1024
	maxProduct     = 128
	maxHostname    = 255
	maxFactField   = 64
	maxPlanName    = 64
	maxFeatures    = 64
	maxFeatureName = 64
	maxSeats       = 1_000_000
	maxProfilesCap = 100_000
	maxSecret      = 512 // credentials, session tokens, device codes
	maxProfileName = 256
	maxProfileNum  = 1_000_000
)

func invalid(format string, args ...any) *Error {
	return errf(protocol.ErrInvalidRequest, format, args...)
}

// normalizeEmail lower-cases and trims an address and checks its shape: the
// point is catching typos and junk, not RFC 5322 conformance.
func normalizeEmail(email string) (string, error) {
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

func checkPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < minPassword || len(pw) > maxPassword {
		return invalid("a password must have %d to %d characters", minPassword, maxPassword)
	}
	return nil
}

// checkText bounds a free-text field and refuses control characters, so what
// is stored can be shown on a web page or in a terminal as is.
func checkText(field, v string, max int, required bool) error {
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

func checkFingerprint(fp string) error {
	if !lease.ValidFingerprint(fp) {
		return invalid("fingerprint must be 64 lowercase hexadecimal characters")
	}
	return nil
}

func checkProduct(p string) error {
	if err := checkText("product", p, maxProduct, true); err != nil {
		return err
	}
	if strings.ContainsFunc(p, unicode.IsSpace) {
		return invalid("product must not contain spaces")
	}
	return nil
}

func checkFacts(f protocol.DeviceFacts) error {
	if err := checkText("device hostname", f.Hostname, maxHostname, false); err != nil {
		return err
	}
	if err := checkText("device os", f.OS, maxFactField, false); err != nil {
		return err
	}
	if err := checkText("device arch", f.Arch, maxFactField, false); err != nil {
		return err
	}
	return checkText("device agent_version", f.AgentVersion, maxFactField, false)
}

func checkProfiles(p *protocol.ProfileSummary) error {
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
	return checkText("profiles.default", p.Default, maxProfileName, false)
}

func checkSecret(field, v string) error {
	if v == "" || len(v) > maxSecret {
		return invalid("%s is missing or malformed", field)
	}
	return nil
}

func checkPlan(p Plan) error {
	if err := checkText("plan name", p.Name, maxPlanName, true); err != nil {
		return err
	}
	if len(p.Features) > maxFeatures {
		return invalid("a plan has at most %d features", maxFeatures)
	}
	seen := make(map[string]bool, len(p.Features))
	for _, f := range p.Features {
		if f == "" || len(f) > maxFeatureName || strings.IndexFunc(f, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.')
		}) >= 0 {
			return invalid("feature %q must be 1 to %d characters of a-z, 0-9, '.', '_' or '-'", f, maxFeatureName)
		}
		if seen[f] {
			return invalid("feature %q is listed twice", f)
		}
		seen[f] = true
	}
	if p.MaxProfiles < 0 || p.MaxProfiles > maxProfilesCap {
		return invalid("max profiles must be between 0 and %d", maxProfilesCap)
	}
	return nil
}

func checkManagementMode(m string) error {
	if !slices.Contains(ManagementModes(), m) {
		return invalid("management mode %q is not one of %q, %q, %q or empty (not managed)",
			truncate(m, 32), ManagedLocalRemote, ManagedLocal, ManagedRemote)
	}
	return nil
}
