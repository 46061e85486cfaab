package profiles

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// File names inside the profile folder and inside each profile subfolder.
const (
	DefaultFile  = "default"      // at the folder root: the default profile's id
	MetaFile     = "profile.json" // profile metadata
	CertFile     = "certificate.pem"
	KeyFile      = "key.pem" // PKCS#8, mode 0600
	PKCS12File   = "profile.p12"
	FormatV1     = 1 // the only metadata format version written and read
	maxNameRunes = 128
)

// certFiles lists the accepted certificate file names, in order of preference.
var certFiles = [...]string{"certificate.pem", "certificate.crt", "certificate.cer", "certificate.der"}

// idPattern is what a profile id may look like: it becomes a folder name, so
// it is restricted to a portable, path-safe alphabet.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// Meta is the content of profile.json.
type Meta struct {
	Format  int       `json:"format"`
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Owner   string    `json:"owner"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// ValidID reports whether id is an acceptable profile id.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// NewID returns a random id shaped like a version 4 UUID.
func NewID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("profiles: random id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}

// ParseMeta decodes and validates profile.json. It never panics; any
// problem is returned as an error fit to show as a reason.
func ParseMeta(data []byte) (Meta, error) {
	var m Meta
	if len(data) == 0 {
		return m, errors.New("profile.json is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return Meta{}, fmt.Errorf("profile.json is not valid JSON: %w", err)
	}
	if dec.More() {
		return Meta{}, errors.New("profile.json has data after the JSON object")
	}
	if err := m.Validate(); err != nil {
		return Meta{}, err
	}
	return m, nil
}

// Validate checks every field of m.
func (m Meta) Validate() error {
	if m.Format != FormatV1 {
		return fmt.Errorf("profile.json: unsupported format version %d (this agent reads %d)", m.Format, FormatV1)
	}
	if !ValidID(m.ID) {
		return errors.New("profile.json: id must be 1-64 letters, digits, '-' or '_'")
	}
	if err := checkText("name", m.Name, true); err != nil {
		return err
	}
	if err := checkText("owner", m.Owner, false); err != nil {
		return err
	}
	if m.Created.IsZero() {
		return errors.New("profile.json: created is missing")
	}
	if m.Updated.IsZero() {
		return errors.New("profile.json: updated is missing")
	}
	return nil
}

// Marshal encodes m as indented JSON.
func (m Meta) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("profiles: encode metadata: %w", err)
	}
	return append(b, '\n'), nil
}

// checkText validates a display string: UTF-8, no control characters,
// bounded length, not only spaces.
func checkText(field, s string, required bool) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("profile %s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(s); n > maxNameRunes {
		return fmt.Errorf("profile %s is too long (%d characters, at most %d)", field, n, maxNameRunes)
	}
	if required && strings.TrimSpace(s) == "" {
		return fmt.Errorf("profile %s is empty", field)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("profile %s contains a control character", field)
		}
	}
	return nil
}

// foldName is the form of a display name used to detect clashes.
func foldName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// sameName compares display names the way clashes are detected.
func sameName(a, b string) bool { return foldName(a) == foldName(b) }
