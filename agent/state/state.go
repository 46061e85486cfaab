// Package state persists the agent's activation state in its state folder:
// one JSON file written atomically (temp file, fsync, rename, fsync of the
// folder) with mode 0600 because it holds the device credential.
//
// The lease inside is signed by the server; the rest of the file is covered by
// an HMAC-SHA256 keyed by a random local key kept in a separate 0600 file, so a
// hand-edited state file is detected and refused (ErrTampered) instead of being
// trusted. This is tamper evidence against casual edits, not protection against
// an administrator who can read the key. Corrupt, truncated or oversize files
// yield ErrCorrupt. Nothing here panics on bad input.
package state

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
)

// File names inside the state folder.
const (
	FileName = "state.json"
	KeyName  = "state.key"
)

// MaxFileSize bounds the state file.
const MaxFileSize = 1 << 20

// Errors of Load. Messages are meant for people.
var (
	ErrTampered = errors.New("state file was modified outside the agent; activate again")
	ErrCorrupt  = errors.New("state file is unreadable; activate again")
)

// Pending is a device-authorization (browser) sign-in in progress.
type Pending struct {
	DeviceCode              string    `json:"device_code"`
	UserCode                string    `json:"user_code"`
	VerificationURI         string    `json:"verification_uri"`
	VerificationURIComplete string    `json:"verification_uri_complete,omitempty"`
	ExpiresAt               time.Time `json:"expires_at"`
	Interval                int       `json:"interval"` // seconds between polls
}

// Activating is an activation request sent (or about to be sent) to the
// server whose answer is not stored yet. It is saved before the request
// leaves, so an agent killed between the server's commit and its own save
// knows it asked and finishes the activation at its next start (the server
// answers a repeated activation of the same fingerprint with the same seat).
type Activating struct {
	Nonce  string `json:"nonce"`  // sent in the request, carried back in the lease
	Method string `json:"method"` // ActivatingLicenseKey, ActivatingEnrollment or ActivatingPassword
	// LicenseKey is the formatted key of a license_key activation (secret:
	// never log). It is kept only until the answer is stored. A password is
	// never stored: an interrupted password activation asks the person to
	// activate again.
	LicenseKey string    `json:"license_key,omitempty"`
	Email      string    `json:"email,omitempty"`
	StartedAt  time.Time `json:"started_at"`
}

// Methods of an Activating record.
const (
	ActivatingLicenseKey = "license_key"
	ActivatingEnrollment = "enrollment" // the key is the configured enrollment token
	ActivatingPassword   = "password"
)

// State is the persisted activation state.
type State struct {
	Lease        string     `json:"lease,omitempty"`
	DeviceID     string     `json:"device_id,omitempty"`
	Credential   string     `json:"credential,omitempty"` // secret: never log
	ServerURL    string     `json:"server_url,omitempty"`
	Account      string     `json:"account,omitempty"`
	Organization string     `json:"organization,omitempty"`
	CheckinAfter int        `json:"checkin_after,omitempty"` // seconds, as last told by the server
	TrustedTime  time.Time  `json:"trusted_time"`            // high-water mark of trusted time
	OfflineSince *time.Time `json:"offline_since,omitempty"`
	LastCheckin  *time.Time `json:"last_checkin,omitempty"`
	Suspended    bool       `json:"suspended,omitempty"`   // the server suspended the license
	Reason       string     `json:"reason,omitempty"`      // details of why not entitled (the server's words), see ReasonCode
	ReasonCode   string     `json:"reason_code,omitempty"` // agentapi.Reason* code of why not entitled
	Pending      *Pending   `json:"pending,omitempty"`
	// ClockSeen is the last wall-clock reading the agent observed and
	// ClockSetBack the total the clock was seen going back (against real
	// elapsed time) since the server last vouched for the time (activation
	// or check-in). The set-backs spend one tolerance budget, so repeated
	// small set-backs cannot stretch an offline lease (docs/threat-model.md).
	ClockSeen    time.Time     `json:"clock_seen,omitzero"`
	ClockSetBack time.Duration `json:"clock_set_back,omitzero"` // nanoseconds
	// LeaseIssuedMax is the newest lease issue time (iat, Unix seconds)
	// ever accepted on this computer; an older lease is a replay. It
	// survives deactivation.
	LeaseIssuedMax int64       `json:"lease_iat_max,omitzero"`
	Activating     *Activating `json:"activating,omitempty"`
	// Commands remembers the remote commands run on this computer, so one
	// delivered twice (even across a restart) runs once.
	Commands *CommandLog `json:"commands,omitempty"`
}

// MaxExecuted bounds how many executed command ids are remembered; the
// server expires a command long before this many newer ones arrive.
const MaxExecuted = 256

// CommandLog is the agent's memory of remote commands.
type CommandLog struct {
	// Executed holds the newest executed commands with their outcome,
	// oldest first.
	Executed []protocol.CommandResult `json:"executed,omitempty"`
	// Unreported holds the outcomes not yet acknowledged by a check-in.
	Unreported []protocol.CommandResult `json:"unreported,omitempty"`
}

// Activated reports whether the state holds an activation.
func (s *State) Activated() bool { return s.Credential != "" && s.Lease != "" }

// ClearActivation drops the lease, credential and everything tied to them,
// keeping the trusted-time mark (so clearing cannot reset the clock check).
func (s *State) ClearActivation() {
	url := s.ServerURL
	*s = s.Clock()
	s.ServerURL = url
}

// Clock returns an empty State that keeps only what no activation or
// deactivation may reset: the trusted-time mark, the clock set-back budget
// and the newest lease issue time seen.
func (s *State) Clock() State {
	return State{TrustedTime: s.TrustedTime, ClockSeen: s.ClockSeen, ClockSetBack: s.ClockSetBack, LeaseIssuedMax: s.LeaseIssuedMax}
}

// Store reads and writes the state in one folder.
type Store struct {
	dir string
	// beforeRename runs after the temp file is written and synced and before it
	// is renamed; tests use it to simulate a crash at that instant.
	beforeRename func() error
}

// NewStore returns a store for the folder dir.
func NewStore(dir string) *Store { return &Store{dir: dir} }

// Dir returns the state folder.
func (s *Store) Dir() string { return s.dir }

// Path returns the state file's path.
func (s *Store) Path() string { return filepath.Join(s.dir, FileName) }

// Load reads and verifies the state. A missing file is an empty State and no
// error. Errors wrap ErrTampered or ErrCorrupt (or are I/O errors) and carry
// a message fit for a person.
func (s *Store) Load() (State, error) {
	data, err := readLimited(s.Path(), MaxFileSize)
	if errors.Is(err, os.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, err
	}
	key, err := readKey(filepath.Join(s.dir, KeyName))
	if errors.Is(err, os.ErrNotExist) {
		return State{}, fmt.Errorf("%w (its key file %s is missing)", ErrTampered, KeyName)
	}
	if err != nil {
		return State{}, err
	}
	return Decode(data, key)
}

// Save writes st atomically with mode 0600, creating the folder and the key
// file when missing.
func (s *Store) Save(st State) error {
	if err := validate(&st); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	key, err := ensureKey(s.dir)
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	data, err := Encode(st, key)
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := writeAtomic(s.dir, FileName, data, 0o600, s.beforeRename); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%w: %s is %d bytes, over the %d byte limit", ErrCorrupt, path, fi.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %s is over the %d byte limit", ErrCorrupt, path, limit)
	}
	return data, nil
}
