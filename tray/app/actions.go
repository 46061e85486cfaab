package app

import (
	"context"
	"sync"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/tray/model"
)

// act handles one click on Run's goroutine; calls to the agent and the
// opener run on goroutines owned by wg and report back through a.updates.
func (a *App) act(ctx context.Context, wg *sync.WaitGroup, s *state, act model.Action) {
	a.log.Info("clicked", "action", act)
	connected := s.conn == model.ConnConnected && s.agent != nil && s.status != nil
	switch act {
	case model.ActionHelp:
		var agentHelp string
		if s.status != nil && s.conn == model.ConnConnected {
			agentHelp = s.status.HelpURL
		}
		if u := model.HelpURL(agentHelp, s.ui); u != "" {
			a.open(ctx, wg, func(ctx context.Context) error { return a.o.Opener.OpenURL(ctx, u) })
		}
		return
	case model.ActionOpenSignIn:
		if u := model.SignInURL(s.status, s.ui); u != "" {
			a.open(ctx, wg, func(ctx context.Context) error { return a.o.Opener.OpenURL(ctx, u) })
		}
		return
	case model.ActionOpenProfiles:
		if connected && s.status.Profiles != nil && s.status.Profiles.Folder != "" {
			dir := s.status.Profiles.Folder
			a.open(ctx, wg, func(ctx context.Context) error { return a.o.Opener.OpenFolder(ctx, dir) })
		}
		return
	case model.ActionDeactivateCancel:
		s.ui.ConfirmingDeactivation = false
		return
	}
	if !connected || s.ui.Busy != "" {
		a.log.Info("action ignored", "action", act, "connected", connected, "busy", s.ui.Busy)
		return
	}
	ag := s.agent
	switch act {
	case model.ActionDeactivate:
		if s.status.DeactivateOK && s.status.Activated {
			s.ui.ConfirmingDeactivation = true
			s.ui.Result = ""
		}
	case model.ActionDeactivateConfirm:
		if !s.ui.ConfirmingDeactivation || !s.status.DeactivateOK {
			return
		}
		s.ui.ConfirmingDeactivation = false
		s.ui.Busy, s.ui.Result = "Deactivating…", ""
		s.expectDeactivated = true
		a.call(ctx, wg, ag, func(ctx context.Context) result {
			if err := ag.Deactivate(ctx); err != nil {
				return result{text: "Deactivation failed: " + errText(err), failed: true}
			}
			return result{text: "This computer was deactivated"}
		})
	case model.ActionActivate:
		s.ui.Busy, s.ui.Result = "Starting sign-in…", ""
		a.call(ctx, wg, ag, func(ctx context.Context) result {
			resp, err := ag.Activate(ctx, agentapi.ActivateRequest{Method: agentapi.ActivateBrowser})
			if err != nil {
				return result{text: "Activation failed: " + errText(err)}
			}
			p := resp.Pending
			if p == nil {
				p = resp.Status.Pending
			}
			if p == nil {
				return result{text: "Activation started"}
			}
			return result{text: "Sign in in your browser to finish", signIn: p, openURL: model.SignInURL(nil, model.UIState{SignIn: p})}
		})
	case model.ActionCheck:
		s.ui.Busy, s.ui.Result = "Checking…", ""
		a.call(ctx, wg, ag, func(ctx context.Context) result {
			if err := ag.Check(ctx); err != nil {
				return result{text: "Check failed: " + errText(err)}
			}
			return result{text: "Checked with the licensing server"}
		})
	}
}

// call runs fn against the agent, then reports its result and a fresh status.
func (a *App) call(ctx context.Context, wg *sync.WaitGroup, ag Agent, fn func(context.Context) result) {
	wg.Go(func() {
		cctx, cancel := context.WithTimeout(ctx, a.o.ActionTimeout)
		defer cancel()
		r := fn(cctx)
		a.log.Info("action finished", "result", r.text)
		u := update{done: &r}
		if st, err := ag.Status(cctx); err == nil {
			u.status = st
		}
		a.send(ctx, u)
	})
}

// open runs an opener call in the background; failures are logged.
func (a *App) open(ctx context.Context, wg *sync.WaitGroup, fn func(context.Context) error) {
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, a.o.ActionTimeout)
		defer cancel()
		if err := fn(ctx); err != nil {
			a.log.Warn("open failed", "err", err)
		}
	})
}
