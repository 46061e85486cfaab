package app

import (
	"context"
	"sync"
	"time"

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
		s.endConfirm()
		return
	}
	if !connected || s.ui.Busy != "" {
		a.log.Info("action ignored", "action", act, "connected", connected, "busy", s.ui.Busy)
		return
	}
	ag := s.agent
	switch act {
	case model.ActionDeactivate:
		if s.status.DeactivateOK && s.status.Activated && !s.ui.ConfirmingDeactivation {
			// The click closed the menu: say where the confirmation is, and
			// close it by itself if nobody confirms.
			s.ui.ConfirmingDeactivation = true
			s.ui.Result = ""
			s.confirm = time.NewTimer(a.o.ConfirmFor)
			a.notifyOne(ctx, wg, model.ConfirmNotification(a.o.Localizer))
		}
	case model.ActionDeactivateConfirm:
		if !s.ui.ConfirmingDeactivation || !s.status.DeactivateOK {
			return
		}
		s.endConfirm()
		s.ui.Busy, s.ui.Result = model.BusyText(a.o.Localizer, model.OpDeactivate), ""
		s.expectDeactivated = true
		a.call(ctx, wg, ag, func(ctx context.Context) result {
			err := ag.Deactivate(ctx)
			a.logResult(model.OpDeactivate, err)
			return result{outcome: outcome(model.OpDeactivate, err)}
		})
	case model.ActionActivate:
		s.ui.Busy, s.ui.Result = model.BusyText(a.o.Localizer, model.OpActivate), ""
		a.call(ctx, wg, ag, func(ctx context.Context) result {
			resp, err := ag.Activate(ctx, agentapi.ActivateRequest{Method: agentapi.ActivateBrowser})
			a.logResult(model.OpActivate, err)
			if err != nil {
				return result{outcome: outcome(model.OpActivate, err)}
			}
			p := resp.Pending
			if p == nil {
				p = resp.Status.Pending
			}
			if p == nil {
				return result{outcome: model.Outcome{Op: model.OpActivate}}
			}
			return result{outcome: model.Outcome{Op: model.OpActivate, SignIn: true}, signIn: p,
				openURL: model.SignInURL(nil, model.UIState{SignIn: p})}
		})
	case model.ActionCheck:
		s.ui.Busy, s.ui.Result = model.BusyText(a.o.Localizer, model.OpCheck), ""
		a.call(ctx, wg, ag, func(ctx context.Context) result {
			err := ag.Check(ctx)
			a.logResult(model.OpCheck, err)
			return result{outcome: outcome(model.OpCheck, err)}
		})
	}
}

// call runs fn against the agent, then reports its result and a fresh status.
func (a *App) call(ctx context.Context, wg *sync.WaitGroup, ag Agent, fn func(context.Context) result) {
	wg.Go(func() {
		cctx, cancel := context.WithTimeout(ctx, a.o.ActionTimeout)
		defer cancel()
		r := fn(cctx)
		u := update{done: &r}
		if st, err := ag.Status(cctx); err == nil {
			u.status = st
		}
		a.send(ctx, u)
	})
}

// logResult logs how an action ended, with the raw error the menu leaves out.
func (a *App) logResult(op model.Op, err error) {
	if err != nil {
		a.log.Warn("action failed", "action", op, "err", err)
		return
	}
	a.log.Info("action finished", "action", op)
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
