package localapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/entitle/entitle/pkg/agentapi"
)

// Input bounds of POST /v1/activation.
const (
	MaxLicenseKeyLen = 256
	MaxEmailLen      = 254
	MaxPasswordLen   = 1024
	MaxFeatureLen    = 64
)

// readBody reads at most agentapi.MaxBodyBytes of r's body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *agentapi.Error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, agentapi.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		return nil, badRequest("reading the request body: %v", err)
	}
	return b, nil
}

// decodeJSON decodes exactly one JSON value into v, refusing unknown fields
// and trailing data. An empty body is accepted only when allowEmpty is set.
func decodeJSON(body []byte, v any, allowEmpty bool) *agentapi.Error {
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return badRequest("the request needs a JSON body")
	}
	if len(body) > agentapi.MaxBodyBytes {
		return errTooLarge
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("malformed JSON: %s", clip(err.Error(), 200))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("malformed JSON: data after the JSON value")
	}
	return nil
}

// decodeActivate parses and validates the body of POST /v1/activation.
func decodeActivate(body []byte) (agentapi.ActivateRequest, *agentapi.Error) {
	var req agentapi.ActivateRequest
	if e := decodeJSON(body, &req, false); e != nil {
		return agentapi.ActivateRequest{}, e
	}
	if e := validateActivate(req); e != nil {
		return agentapi.ActivateRequest{}, e
	}
	return req, nil
}

func validateActivate(r agentapi.ActivateRequest) *agentapi.Error {
	switch r.Method {
	case agentapi.ActivateBrowser:
		if r.LicenseKey != "" || r.Email != "" || r.Password != "" {
			return badRequest("method %q takes no license key, email or password", r.Method)
		}
	case agentapi.ActivateLicenseKey:
		if r.Email != "" || r.Password != "" {
			return badRequest("method %q takes no email or password", r.Method)
		}
		if r.LicenseKey == "" || len(r.LicenseKey) > MaxLicenseKeyLen || !printableASCII(r.LicenseKey) {
			return badRequest("license_key must be 1 to %d printable characters without spaces", MaxLicenseKeyLen)
		}
	case agentapi.ActivatePassword:
		if r.LicenseKey != "" {
			return badRequest("method %q takes no license key", r.Method)
		}
		if len(r.Email) < 3 || len(r.Email) > MaxEmailLen || !strings.Contains(r.Email, "@") || !cleanText(r.Email) || strings.ContainsAny(r.Email, " \t") {
			return badRequest("email must be an address of at most %d characters", MaxEmailLen)
		}
		if r.Password == "" || len(r.Password) > MaxPasswordLen || !cleanText(r.Password) {
			return badRequest("password must be 1 to %d characters without control characters", MaxPasswordLen)
		}
	default:
		return badRequest("method must be %q, %q or %q", agentapi.ActivateBrowser, agentapi.ActivateLicenseKey, agentapi.ActivatePassword)
	}
	return nil
}

// validFeature accepts feature names of letters, digits and . _ : -.
func validFeature(s string) bool {
	if s == "" || len(s) > MaxFeatureLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// cleanText is valid UTF-8 without control characters.
func cleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

func badRequest(format string, args ...any) *agentapi.Error {
	return &agentapi.Error{Code: agentapi.ErrBadRequest, Message: fmt.Sprintf(format, args...)}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
