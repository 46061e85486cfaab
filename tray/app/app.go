// Package app is the tray's logic between the agent and the menu: it follows
// the agent's status and event stream (reconnecting with backoff when the
// agent stops or restarts), rebuilds the whole menu through tray/model on
// every change, runs the clicked actions, and raises desktop notifications.
// The menu, the browser and the notifications sit behind small interfaces;
// tray/systrayui renders with fyne.io/systray.
package app

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/agentclient"
	"github.com/entitle/entitle/tray/model"
)

// Agent is what the tray needs from the agent (*agentclient.Client has it).
type Agent interface {
	Status(ctx context.Context) (*agentapi.Status, error)
	Events(ctx context.Context) (<-chan agentapi.Event, <-chan error)
	Activate(ctx context.Context, req agentapi.ActivateRequest) (*agentapi.ActivateResponse, error)
	Deactivate(ctx context.Context) error
	Check(ctx context.Context) error
}

// Dialer returns a client for the agent; it is called before each connection
// attempt so a new API token is picked up. An error wrapping
// agentclient.ErrAgentNotRunning shows "Agent not running".
type Dialer func() (Agent, error)

// Renderer shows a menu, replacing the previous one.
type Renderer interface {
	Render(m model.Menu)
}

// Opener opens web pages and folders.
type Opener interface {
	OpenURL(ctx context.Context, url string) error
	OpenFolder(ctx context.Context, path string) error
}

// Notifier shows desktop notifications (best effort).
type Notifier interface {
	Notify(ctx context.Context, n model.Notification) error
}

// Options configure an App. Dial, Renderer and Opener are required.
type Options struct {
	Dial     Dialer
	Renderer Renderer
	Opener   Opener
	Notifier Notifier // nil: no notifications
	Logger   *slog.Logger
	HelpURL  string           // used when the agent reports none
	Now      func() time.Time // default time.Now
	// MinBackoff and MaxBackoff bound the wait between connection attempts
	// (default 1 s and 10 s).
	MinBackoff, MaxBackoff time.Duration
	// Tick re-evaluates time-based state (default one minute).
	Tick time.Duration
	// ActionTimeout bounds one call to the agent (default 2 minutes).
	ActionTimeout time.Duration
}

// App is one running tray. Create it with New, run it with Run.
type App struct {
	o       Options
	log     *slog.Logger
	actions chan model.Action
	updates chan update
}

// update is what the watcher and the action goroutines report to Run.
type update struct {
	agent   Agent            // set with a fresh status from a new connection
	status  *agentapi.Status // a new status, or nil
	conn    model.ConnState
	connErr string
	done    *result // an action finished
}

type result struct {
	text    string
	signIn  *agentapi.PendingAuth
	openURL string
	failed  bool
}

// New checks the options and returns an App.
func New(o Options) (*App, error) {
	if o.Dial == nil || o.Renderer == nil || o.Opener == nil {
		return nil, errors.New("app: Dial, Renderer and Opener are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(10*time.Second, o.MinBackoff)
	}
	if o.Tick <= 0 {
		o.Tick = time.Minute
	}
	if o.ActionTimeout <= 0 {
		o.ActionTimeout = 2 * time.Minute
	}
	return &App{o: o, log: o.Logger, actions: make(chan model.Action, 8), updates: make(chan update)}, nil
}

// Click queues an action; it never blocks (a click is dropped when eight are
// already waiting) and is safe from any goroutine.
func (a *App) Click(act model.Action) {
	select {
	case a.actions <- act:
	default:
		a.log.Warn("click dropped: too many pending", "action", act)
	}
}

// state is owned by Run's goroutine.
type state struct {
	agent    Agent
	status   *agentapi.Status
	conn     model.ConnState
	ui       model.UIState
	last     model.Snapshot // for notifications
	rendered *model.Menu
	// expectDeactivated suppresses the "deactivated" notification for the
	// deactivation asked in the tray.
	expectDeactivated bool
}

// Run shows the tray until ctx ends or Quit is clicked. It returns nil then;
// it waits for every goroutine it started.
func (a *App) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	wg.Go(func() { a.watch(ctx) })
	tick := time.NewTicker(a.o.Tick)
	defer tick.Stop()

	s := &state{conn: model.ConnConnecting, ui: model.UIState{HelpURL: a.o.HelpURL}}
	a.render(s)
	for {
		select {
		case <-ctx.Done():
			return nil
		case u := <-a.updates:
			a.apply(ctx, &wg, s, u)
		case act := <-a.actions:
			if act == model.ActionQuit {
				a.log.Info("quit clicked")
				return nil
			}
			a.act(ctx, &wg, s, act)
		case <-tick.C:
			a.notify(ctx, &wg, s)
		}
		a.render(s)
	}
}

func (a *App) render(s *state) {
	m := model.Build(s.status, s.conn, s.ui, a.o.Now())
	if s.rendered != nil && reflect.DeepEqual(*s.rendered, m) {
		return
	}
	s.rendered = &m
	a.o.Renderer.Render(m)
}

func (a *App) apply(ctx context.Context, wg *sync.WaitGroup, s *state, u update) {
	if u.agent != nil {
		s.agent = u.agent
	}
	if u.done != nil {
		s.ui.Busy = ""
		s.ui.Result = u.done.text
		if u.done.failed {
			s.expectDeactivated = false
		}
		if u.done.signIn != nil {
			s.ui.SignIn = u.done.signIn
		}
		if u.done.openURL != "" {
			a.open(ctx, wg, func(ctx context.Context) error { return a.o.Opener.OpenURL(ctx, u.done.openURL) })
		}
	}
	if u.status != nil {
		s.status, s.conn, s.ui.ConnError = u.status, model.ConnConnected, ""
		if s.status.Activated {
			s.ui.SignIn = nil
		} else {
			s.ui.ConfirmingDeactivation = false
		}
		a.notify(ctx, wg, s)
	} else if u.done == nil {
		s.conn, s.ui.ConnError = u.conn, u.connErr
		s.ui.ConfirmingDeactivation = false
	}
}

// notify raises the notifications the change since the last look deserves.
func (a *App) notify(ctx context.Context, wg *sync.WaitGroup, s *state) {
	if s.conn != model.ConnConnected || s.status == nil {
		return
	}
	now := a.o.Now()
	next := model.Snapshot{Status: s.status, At: now}
	notes := model.Transitions(s.last, next)
	s.last = next
	for _, n := range notes {
		if n.ID == model.NoteDeactivated && s.expectDeactivated {
			s.expectDeactivated = false
			continue
		}
		a.log.Info("notification", "id", n.ID, "title", n.Title)
		if a.o.Notifier == nil {
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := a.o.Notifier.Notify(ctx, n); err != nil {
				a.log.Debug("desktop notification failed", "id", n.ID, "err", err)
			}
		})
	}
}

// errText is a short description of an agent error for a menu line.
func errText(err error) string {
	var ae *agentapi.Error
	switch {
	case errors.As(err, &ae) && ae.Message != "":
		return ae.Message
	case errors.As(err, &ae):
		return ae.Code
	case errors.Is(err, agentclient.ErrAgentNotRunning):
		return "the agent is not running"
	}
	return err.Error()
}

// send reports u to Run unless ctx ends first.
func (a *App) send(ctx context.Context, u update) bool {
	select {
	case a.updates <- u:
		return true
	case <-ctx.Done():
		return false
	}
}

func connUpdate(err error) update {
	if errors.Is(err, agentclient.ErrAgentNotRunning) {
		return update{conn: model.ConnAgentNotRunning}
	}
	return update{conn: model.ConnFailed, connErr: errText(err)}
}
