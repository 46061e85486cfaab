package protocol

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Remote command types: what an administrator can ask a computer to do. The
// server queues them; a check-in answer delivers them; the agent runs each
// once and reports its outcome in a later check-in request.
const (
	CmdDeactivate    = "deactivate"     // release the seat and forget the activation
	CmdRefreshLease  = "refresh_lease"  // check in again now for a fresh lease
	CmdSuspend       = "suspend"        // stop answering entitled until resumed
	CmdResume        = "resume"         // undo suspend, without re-activation
	CmdShowMessage   = "show_message"   // show args["message"] in the tray
	CmdSendInventory = "send_inventory" // send the profile inventory now
)

// CommandTypes lists every command type, in a stable order.
func CommandTypes() []string {
	return []string{CmdDeactivate, CmdRefreshLease, CmdSuspend, CmdResume, CmdShowMessage, CmdSendInventory}
}

// KnownCommand reports whether t is a command type.
func KnownCommand(t string) bool {
	for _, k := range CommandTypes() {
		if k == t {
			return true
		}
	}
	return false
}

// Lifecycle of a command on the server. pending → delivered (sent in a
// check-in answer) → succeeded | failed | refused (the agent's report); a
// command not reported before its expiry becomes expired.
const (
	CommandPending   = "pending"
	CommandDelivered = "delivered"
	CommandSucceeded = "succeeded"
	CommandFailed    = "failed"
	CommandRefused   = "refused"
	CommandExpired   = "expired"
)

// Codes an agent reports with a refused or failed command.
const (
	CmdErrLocalOnly    = "local_only"        // the computer's management mode refuses remote commands
	CmdErrUnknown      = "unknown_command"   // the agent does not know the type
	CmdErrInvalidArgs  = "invalid_arguments" // the arguments do not validate
	CmdErrExpired      = "command_expired"   // arrived after its expiry
	CmdErrNotActivated = "not_activated"     // nothing to act on
	CmdErrFailed       = "command_failed"    // ran and failed; args["detail"] says why
)

// Bounds on commands.
const (
	MaxCommandsPerCheckin = 32
	MaxCommandResults     = 100
	MaxMessageChars       = 500 // show_message's text, in characters
	MaxCommandArgs        = 8
	MaxCommandArgBytes    = 2048
)

// Command is a remote command for the device.
type Command struct {
	ID        string            `json:"id"`
	Type      string            `json:"type"`
	Args      map[string]string `json:"args,omitempty"`
	ExpiresAt int64             `json:"expires_at"` // Unix seconds; the agent refuses it after
}

// Validate checks a command's shape and its type's arguments. It is the
// one check both the server (before queuing) and the agent (before running)
// apply.
func (c Command) Validate() error {
	if c.ID == "" || len(c.ID) > 64 {
		return errors.New("command id must be 1 to 64 bytes")
	}
	if !KnownCommand(c.Type) {
		return fmt.Errorf("unknown command type %q", c.Type)
	}
	if len(c.Args) > MaxCommandArgs {
		return fmt.Errorf("a command takes at most %d arguments", MaxCommandArgs)
	}
	for k, v := range c.Args {
		if len(k) > 64 || len(v) > MaxCommandArgBytes || !utf8.ValidString(v) {
			return fmt.Errorf("argument %q is too long or not UTF-8", k)
		}
	}
	switch c.Type {
	case CmdShowMessage:
		msg := strings.TrimSpace(c.Args["message"])
		if msg == "" {
			return errors.New("show_message needs a message")
		}
		if utf8.RuneCountInString(msg) > MaxMessageChars {
			return fmt.Errorf("the message is longer than %d characters", MaxMessageChars)
		}
		for k := range c.Args {
			if k != "message" {
				return fmt.Errorf("show_message takes only message, not %q", k)
			}
		}
	default:
		if len(c.Args) > 0 {
			return fmt.Errorf("%s takes no arguments", c.Type)
		}
	}
	return nil
}

// CommandResult reports the outcome of a remote command in a check-in
// request: Status is CommandSucceeded, CommandFailed or CommandRefused, with
// a code (CmdErr*) and its arguments when not succeeded.
type CommandResult struct {
	ID     string            `json:"id"`
	Status string            `json:"status"`
	Code   string            `json:"code,omitempty"`
	Args   map[string]string `json:"args,omitempty"`
}

// Validate bounds a result the server receives.
func (r CommandResult) Validate() error {
	if r.ID == "" || len(r.ID) > 64 {
		return errors.New("command result id must be 1 to 64 bytes")
	}
	switch r.Status {
	case CommandSucceeded, CommandFailed, CommandRefused:
	default:
		return fmt.Errorf("command result status %q is not succeeded, failed or refused", r.Status)
	}
	if len(r.Code) > 64 || len(r.Args) > MaxCommandArgs {
		return errors.New("command result code or arguments too long")
	}
	for k, v := range r.Args {
		if len(k) > 64 || len(v) > MaxCommandArgBytes {
			return fmt.Errorf("result argument %q is too long", k)
		}
	}
	return nil
}

// The push stream (GET PathDeviceStream): server-sent events whose only
// event that matters is StreamEventCheckin, "check in now". The agent then
// pulls its commands with an ordinary check-in. StreamEventReady opens every
// stream at once, so an agent behind a proxy that buffers the stream notices
// (no ready event within a few seconds) and falls back to the long poll
// (?wait=1), which answers LongPollResponse.
const (
	StreamEventReady   = "ready"
	StreamEventCheckin = "checkin"
	// MaxLongPollWait bounds how long the server holds a long poll.
	MaxLongPollWait = 25 // seconds
)

// LongPollResponse is the answer of GET PathDeviceStream?wait=1.
type LongPollResponse struct {
	Checkin bool `json:"checkin"` // true: check in now
}

// EnrollmentTokenPrefix starts every workspace enrollment token, so an
// installer's configuration tells one from a license key.
const EnrollmentTokenPrefix = "ent_"

// ValidEnrollmentToken reports whether s has the shape of an enrollment
// token: the prefix and 32 to 64 base64url characters.
func ValidEnrollmentToken(s string) bool {
	rest, ok := strings.CutPrefix(s, EnrollmentTokenPrefix)
	if !ok || len(rest) < 32 || len(rest) > 64 {
		return false
	}
	for _, c := range rest {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
