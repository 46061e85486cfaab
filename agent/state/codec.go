package state

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/entitle/entitle/pkg/protocol"
)

// formatVersion is the state file's format version.
const formatVersion = 1

// macContext separates this HMAC from any other use of the key.
const macContext = "entitle-state-v1\n"

// KeySize is the size of the local HMAC key.
const KeySize = 32

type envelope struct {
	Version int             `json:"v"`
	State   json.RawMessage `json:"state"`
	MAC     string          `json:"mac"`
}

func mac(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(macContext))
	m.Write(body)
	return m.Sum(nil)
}

// Encode serializes st and authenticates it with key.
func Encode(st State, key []byte) ([]byte, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("state key has %d bytes, want %d", len(key), KeySize)
	}
	body, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(envelope{Version: formatVersion, State: body, MAC: hex.EncodeToString(mac(key, body))}, "", "  ")
}

// Decode parses and verifies a state file. Every error wraps ErrCorrupt or
// ErrTampered.
func Decode(data, key []byte) (State, error) {
	if len(data) > MaxFileSize {
		return State{}, fmt.Errorf("%w: %d bytes, over the %d byte limit", ErrCorrupt, len(data), MaxFileSize)
	}
	if len(key) != KeySize {
		return State{}, fmt.Errorf("%w (its key file is damaged)", ErrTampered)
	}
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return State{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if dec.More() {
		return State{}, fmt.Errorf("%w: trailing data", ErrCorrupt)
	}
	if env.Version != formatVersion {
		return State{}, fmt.Errorf("%w: format version %d, this agent reads %d", ErrCorrupt, env.Version, formatVersion)
	}
	got, err := hex.DecodeString(env.MAC)
	if err != nil || len(env.State) == 0 {
		return State{}, fmt.Errorf("%w: missing or malformed authentication code", ErrCorrupt)
	}
	// The MAC covers the exact bytes of the state object; compact them the
	// same way Encode wrote them before MarshalIndent re-indented them.
	var body bytes.Buffer
	if err := json.Compact(&body, env.State); err != nil {
		return State{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if !hmac.Equal(got, mac(key, body.Bytes())) {
		return State{}, ErrTampered
	}
	var st State
	sd := json.NewDecoder(bytes.NewReader(body.Bytes()))
	sd.DisallowUnknownFields()
	if err := sd.Decode(&st); err != nil {
		return State{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if err := validate(&st); err != nil {
		return State{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return st, nil
}

// Field limits.
const (
	maxLease  = 16 << 10
	maxSecret = 1 << 10
	maxText   = 1 << 10
)

type field struct {
	name string
	v    string
	max  int
}

func validate(st *State) error {
	fields := []field{
		{"lease", st.Lease, maxLease}, {"device id", st.DeviceID, maxText}, {"credential", st.Credential, maxSecret},
		{"server url", st.ServerURL, maxText}, {"account", st.Account, maxText}, {"organization", st.Organization, maxText},
		{"reason", st.Reason, maxText}, {"reason code", st.ReasonCode, 64},
	}
	if p := st.Pending; p != nil {
		fields = append(fields,
			field{"device code", p.DeviceCode, maxSecret},
			field{"user code", p.UserCode, 64},
			field{"verification uri", p.VerificationURI, maxText},
			field{"verification uri complete", p.VerificationURIComplete, maxText})
		if p.DeviceCode == "" {
			return errors.New("pending sign-in without a device code")
		}
		if p.Interval < 0 || p.Interval > 3600 {
			return fmt.Errorf("pending sign-in interval %d out of range", p.Interval)
		}
	}
	if a := st.Activating; a != nil {
		fields = append(fields,
			field{"activation nonce", a.Nonce, 128},
			field{"activation license key", a.LicenseKey, 256},
			field{"activation email", a.Email, maxText})
		switch a.Method {
		case ActivatingLicenseKey, ActivatingEnrollment, ActivatingPassword:
		default:
			return fmt.Errorf("activation in progress has an unknown method %q", a.Method)
		}
		if a.Nonce == "" {
			return errors.New("activation in progress without a nonce")
		}
	}
	if c := st.Commands; c != nil {
		if len(c.Executed) > MaxExecuted || len(c.Unreported) > MaxExecuted {
			return errors.New("command log is over its bound")
		}
		for _, list := range [][]protocol.CommandResult{c.Executed, c.Unreported} {
			for _, r := range list {
				if err := r.Validate(); err != nil {
					return fmt.Errorf("command log: %w", err)
				}
			}
		}
	}
	if st.ClockSetBack < 0 {
		return errors.New("clock set-back total is negative")
	}
	if st.LeaseIssuedMax < 0 {
		return errors.New("newest lease issue time is negative")
	}
	for _, f := range fields {
		if len(f.v) > f.max {
			return fmt.Errorf("%s is %d bytes, over the %d byte limit", f.name, len(f.v), f.max)
		}
		if strings.ContainsAny(f.v, "\x00\r\n") {
			return fmt.Errorf("%s contains control characters", f.name)
		}
	}
	if st.ServerURL != "" {
		if _, err := url.Parse(st.ServerURL); err != nil {
			return fmt.Errorf("server url: %v", err)
		}
	}
	if st.CheckinAfter < 0 || st.CheckinAfter > 366*24*3600 {
		return fmt.Errorf("check-in interval %d out of range", st.CheckinAfter)
	}
	if (st.Lease == "") != (st.Credential == "") {
		return errors.New("lease and credential must both be present or both absent")
	}
	return nil
}

func readKey(path string) ([]byte, error) {
	data, err := readLimited(path, 4*KeySize)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("%w (its key file %s is damaged)", ErrTampered, filepath.Base(path))
	}
	return key, nil
}

// ensureKey returns the folder's state key, creating it (0600) when missing.
func ensureKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, KeyName)
	key, err := readKey(path)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, ErrTampered) {
		return nil, err
	}
	// A damaged key is replaced: the state written with it next is
	// authenticated by the new key.
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("state key: %w", err)
	}
	if err := writeAtomic(dir, KeyName, []byte(hex.EncodeToString(key)+"\n"), 0o600, nil); err != nil {
		return nil, fmt.Errorf("state key: %w", err)
	}
	return key, nil
}
