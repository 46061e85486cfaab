// Package commands runs the remote commands an administrator sends to this
// computer. Each command type has its small file with its handler; the
// Registry maps types to handlers and applies the rules every command shares
// (shape, expiry, the computer's management mode) before a handler runs.
//
// The engine calls Run only for commands it received in a verified answer of
// the licensing server, and remembers which ids it executed, so a command
// delivered twice runs once (agent/engine/commands.go).
package commands

import (
	"context"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
)

// Env is what a command may do to the agent; the engine implements it.
type Env interface {
	// Deactivate releases this computer's seat and clears the activation.
	Deactivate(ctx context.Context) error
	// SetSuspended suspends (true) or resumes (false) this computer's
	// entitlement, without touching its activation.
	SetSuspended(suspended bool)
	// CheckinSoon asks for a check-in as soon as the engine can make one.
	CheckinSoon()
	// ShowMessage shows an administrator's message to the person (tray).
	ShowMessage(text string)
}

// Handler runs one command whose shape Run has already checked.
type Handler func(ctx context.Context, env Env, c protocol.Command) error

// Registry maps every command type to its handler.
type Registry struct {
	handlers map[string]Handler
}

// New returns the registry of every command type this agent runs.
func New() *Registry {
	return &Registry{handlers: map[string]Handler{
		protocol.CmdDeactivate:    deactivate,
		protocol.CmdRefreshLease:  refreshLease,
		protocol.CmdSuspend:       suspend,
		protocol.CmdResume:        resume,
		protocol.CmdShowMessage:   showMessage,
		protocol.CmdSendInventory: sendInventory,
	}}
}

// Types lists the types r runs.
func (r *Registry) Types() []string {
	var out []string
	for _, t := range protocol.CommandTypes() {
		if _, ok := r.handlers[t]; ok {
			out = append(out, t)
		}
	}
	return out
}

// Run applies the shared rules to c and runs its handler. mode is the
// management mode the signed lease carries: "local" (the person only) refuses
// every remote command, whatever the server sent.
func (r *Registry) Run(ctx context.Context, env Env, mode string, c protocol.Command, now time.Time) protocol.CommandResult {
	res := protocol.CommandResult{ID: c.ID}
	h, known := r.handlers[c.Type]
	switch {
	case !known:
		res.Status, res.Code = protocol.CommandRefused, protocol.CmdErrUnknown
		res.Args = map[string]string{"type": truncate(c.Type, 64)}
	case c.Validate() != nil:
		res.Status, res.Code = protocol.CommandRefused, protocol.CmdErrInvalidArgs
		res.Args = map[string]string{"detail": truncate(c.Validate().Error(), 256)}
	case mode == "local":
		res.Status, res.Code = protocol.CommandRefused, protocol.CmdErrLocalOnly
	case c.ExpiresAt != 0 && !now.Before(time.Unix(c.ExpiresAt, 0)):
		res.Status, res.Code = protocol.CommandRefused, protocol.CmdErrExpired
	default:
		if err := h(ctx, env, c); err != nil {
			res.Status, res.Code = protocol.CommandFailed, protocol.CmdErrFailed
			res.Args = map[string]string{"detail": truncate(err.Error(), 256)}
		} else {
			res.Status = protocol.CommandSucceeded
		}
	}
	return res
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
