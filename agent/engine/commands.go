package engine

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/entitle/entitle/agent/commands"
	"github.com/entitle/entitle/agent/state"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
)

// pendingResultsLocked returns the command outcomes the next check-in
// reports.
func (e *Engine) pendingResultsLocked() []protocol.CommandResult {
	if e.st.Commands == nil || len(e.st.Commands.Unreported) == 0 {
		return nil
	}
	return slices.Clone(e.st.Commands.Unreported)
}

// resultsReportedLocked forgets the outcomes a successful check-in carried.
func (e *Engine) resultsReportedLocked(sent []protocol.CommandResult) {
	if e.st.Commands == nil || len(sent) == 0 {
		return
	}
	e.st.Commands.Unreported = slices.DeleteFunc(e.st.Commands.Unreported, func(r protocol.CommandResult) bool {
		return slices.ContainsFunc(sent, func(s protocol.CommandResult) bool { return s.ID == r.ID })
	})
}

// runCommands runs the commands of a verified check-in answer, each once:
// an id already executed is not run again, its outcome is reported again
// (the server did not get it). The caller holds the op semaphore but not mu.
func (e *Engine) runCommands(ctx context.Context, cmds []protocol.Command) {
	if len(cmds) > protocol.MaxCommandsPerCheckin {
		cmds = cmds[:protocol.MaxCommandsPerCheckin]
	}
	env := &commandEnv{e: e}
	for _, c := range cmds {
		e.mu.Lock()
		if e.st.Commands == nil {
			e.st.Commands = &state.CommandLog{}
		}
		log := e.st.Commands
		if i := slices.IndexFunc(log.Executed, func(r protocol.CommandResult) bool { return r.ID == c.ID }); i >= 0 {
			if !slices.ContainsFunc(log.Unreported, func(r protocol.CommandResult) bool { return r.ID == c.ID }) {
				log.Unreported = appendBounded(log.Unreported, log.Executed[i])
			}
			e.mu.Unlock()
			continue
		}
		v := e.viewLocked(e.now())
		mode := v.managementMode()
		now := e.now()
		e.mu.Unlock()

		res := e.commands.Run(ctx, env, mode, c, now)
		e.log.Info("remote command", "id", c.ID, "type", c.Type, "status", res.Status, "code", res.Code)

		e.mu.Lock()
		if e.st.Commands == nil { // a deactivation cleared the state: nothing left to report from
			e.mu.Unlock()
			return
		}
		e.st.Commands.Executed = appendBounded(e.st.Commands.Executed, res)
		e.st.Commands.Unreported = appendBounded(e.st.Commands.Unreported, res)
		// The outcome is saved before anything else happens, so a restart
		// neither runs the command again nor forgets to report it.
		_ = e.saveLocked()
		e.recomputeLocked()
		e.mu.Unlock()
	}
	e.mu.Lock()
	if e.st.Commands != nil && len(e.st.Commands.Unreported) > 0 {
		e.nextCheckin = e.now() // report the outcomes at once
	}
	e.mu.Unlock()
	e.poke()
}

func appendBounded(list []protocol.CommandResult, r protocol.CommandResult) []protocol.CommandResult {
	list = append(list, r)
	if over := len(list) - state.MaxExecuted; over > 0 {
		list = slices.Delete(list, 0, over)
	}
	return list
}

// commandEnv is what a remote command may do to the engine.
type commandEnv struct{ e *Engine }

var _ commands.Env = (*commandEnv)(nil)

// Deactivate releases the seat on the server and clears the activation. It
// runs inside a check-in, so it does not take the op semaphore again, and
// unlike the person's deactivation it is allowed in remote-only mode.
func (c *commandEnv) Deactivate(ctx context.Context) error {
	e := c.e
	e.mu.Lock()
	cred := e.st.Credential
	e.mu.Unlock()
	if cred == "" {
		return errors.New("this computer is not activated")
	}
	err := e.call(ctx, http.MethodDelete, protocol.PathDevice, cred, nil, nil)
	var ue *upstreamError
	if err != nil && !(errors.As(err, &ue) && (ue.status == http.StatusGone || ue.status == http.StatusUnauthorized)) {
		return err
	}
	e.mu.Lock()
	e.clearLocked()
	e.st.ReasonCode = agentapi.ReasonDeactivatedRemote
	_ = e.saveLocked()
	e.recomputeLocked()
	e.mu.Unlock()
	e.publish(agentapi.Event{Type: agentapi.EventDeactivated, Time: e.now(), Code: agentapi.ReasonDeactivatedRemote})
	return nil
}

func (c *commandEnv) SetSuspended(suspended bool) {
	e := c.e
	e.mu.Lock()
	defer e.mu.Unlock()
	e.st.Suspended = suspended
	if suspended {
		e.st.ReasonCode, e.st.Reason = agentapi.ReasonDeviceSuspended, ""
	} else if e.st.ReasonCode == agentapi.ReasonDeviceSuspended {
		e.st.ReasonCode, e.st.Reason = "", ""
	}
}

func (c *commandEnv) CheckinSoon() {
	e := c.e
	e.mu.Lock()
	e.nextCheckin = e.now()
	e.mu.Unlock()
	e.poke()
}

func (c *commandEnv) ShowMessage(text string) {
	c.e.publish(agentapi.Event{Type: agentapi.EventMessage, Time: c.e.now(), Message: cleanText(text, 4*protocol.MaxMessageChars)})
}
