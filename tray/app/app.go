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
	"fmt"
	"io/fs"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/agentclient"
	"github.com/entitle/entitle/pkg/i18n"
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
// attempt so a new configuration or API token is picked up. An error wrapping
// agentclient.ErrAgentNotRunning shows "Agent not running"; one wrapping
// ErrConfig or fs.ErrPermission says the configuration or the token cannot
// be read.
type Dialer func() (Agent, error)

// ErrConfig marks a Dialer error about the agent's configuration file.
var ErrConfig = errors.New("the agent's configuration") // i18n:ignore: for the log; the menu says model.ProblemConfig

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
	HelpURL  string // used when the agent reports none
	// Localizer is the language of every text (nil: English).
	Localizer *i18n.Localizer
	Now       func() time.Time // default time.Now
	// MinBackoff and MaxBackoff bound the wait between connection attempts
	// (default 1 s and 10 s).
	MinBackoff, MaxBackoff time.Duration
	// Tick re-evaluates time-based state (default one minute).
	Tick time.Duration
	// ActionTimeout bounds one call to the agent (default 2 minutes).
	ActionTimeout time.Duration
	// ConfirmFor is how long the deactivation confirmation stays open
	// (default model.ConfirmFor).
	ConfirmFor time.Duration
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
	problem model.Problem
	done    *result // an action finished
	message string  // an administrator's message (remote command show_message)
}

type result struct {
	outcome model.Outcome
	signIn  *agentapi.PendingAuth
	openURL string
}

// New checks the options and returns an App.
func New(o Options) (*App, error) {
	if o.Dial == nil || o.Renderer == nil || o.Opener == nil {
		return nil, errors.New("app: Dial, Renderer and Opener are required") // i18n:ignore: a programming error
	}
	if o.Localizer == nil {
		o.Localizer = i18n.New().Localizer(i18n.English)
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
	if o.ConfirmFor <= 0 {
		o.ConfirmFor = model.ConfirmFor
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
	// deactivation asked in the tray (it gets its own, with the result).
	expectDeactivated bool
	// resultKey is the statusKey ui.Result was about.
	resultKey string
	// confirm ends the deactivation confirmation.
	confirm *time.Timer
}

// statusKey changes whenever a status says something an action's result may
// be about; a result is shown only while it stays the same.
func statusKey(st *agentapi.Status) string {
	if st == nil {
		return ""
	}
	k := fmt.Sprintf("%t|%s|%t", st.Activated, st.Entitlement.State, st.Pending != nil)
	if st.LastCheckin != nil {
		k += "|" + st.LastCheckin.UTC().Format(time.RFC3339Nano)
	}
	return k
}

func (s *state) setResult(text string) {
	s.ui.Result, s.resultKey = text, statusKey(s.status)
}

// endConfirm closes the deactivation confirmation.
func (s *state) endConfirm() {
	s.ui.ConfirmingDeactivation = false
	if s.confirm != nil {
		s.confirm.Stop()
		s.confirm = nil
	}
}

func (s *state) confirmC() <-chan time.Time {
	if s.confirm == nil {
		return nil
	}
	return s.confirm.C
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
	defer s.endConfirm()
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
		case <-s.confirmC():
			s.confirm = nil
			if s.ui.ConfirmingDeactivation {
				a.log.Info("deactivation not confirmed in time")
				s.ui.ConfirmingDeactivation = false
				s.setResult(model.ConfirmExpiredText(a.o.Localizer))
			}
		}
		a.render(s)
	}
}

func (a *App) render(s *state) {
	m := model.Build(a.o.Localizer, s.status, s.conn, s.ui, a.o.Now())
	if s.rendered != nil && reflect.DeepEqual(*s.rendered, m) {
		return
	}
	s.rendered = &m
	a.o.Renderer.Render(m)
}

func (a *App) apply(ctx context.Context, wg *sync.WaitGroup, s *state, u update) {
	if u.message != "" {
		a.notifyOne(ctx, wg, model.AdminMessage(a.o.Localizer, s.status, u.message))
		return
	}
	if u.agent != nil {
		s.agent = u.agent
	}
	if u.done != nil {
		s.ui.Busy = ""
		if u.done.outcome.Failed() {
			s.expectDeactivated = false
		}
		if u.done.outcome.Op == model.OpDeactivate {
			a.notifyOne(ctx, wg, model.DeactivationNotification(a.o.Localizer, u.done.outcome))
		}
		if u.done.signIn != nil {
			s.ui.SignIn = u.done.signIn
		}
		if u.done.openURL != "" {
			a.open(ctx, wg, func(ctx context.Context) error { return a.o.Opener.OpenURL(ctx, u.done.openURL) })
		}
	}
	if u.status != nil {
		s.status, s.conn, s.ui.Problem = u.status, model.ConnConnected, model.ProblemNone
		if s.status.Activated {
			s.ui.SignIn = nil
		} else {
			s.endConfirm()
		}
		if s.ui.Result != "" && statusKey(s.status) != s.resultKey {
			s.ui.Result = "" // it was about a status that is gone
		}
		a.notify(ctx, wg, s)
	} else if u.done == nil {
		s.conn, s.ui.Problem = u.conn, u.problem
		s.endConfirm()
		// A result or sign-in code was about the agent that went away.
		s.ui.Result, s.ui.SignIn = "", nil
	}
	if u.done != nil && s.conn == model.ConnConnected {
		s.setResult(model.ResultText(a.o.Localizer, u.done.outcome))
	}
}

// notify raises the notifications the change since the last look deserves.
func (a *App) notify(ctx context.Context, wg *sync.WaitGroup, s *state) {
	if s.conn != model.ConnConnected || s.status == nil {
		return
	}
	now := a.o.Now()
	next := model.Snapshot{Status: s.status, At: now}
	notes := model.Transitions(a.o.Localizer, s.last, next)
	s.last = next
	for _, n := range notes {
		if n.ID == model.NoteDeactivated && s.expectDeactivated {
			s.expectDeactivated = false
			continue
		}
		a.notifyOne(ctx, wg, n)
	}
}

// notifyOne shows n in the background (best effort).
func (a *App) notifyOne(ctx context.Context, wg *sync.WaitGroup, n model.Notification) {
	a.log.Info("notification", "id", n.ID, "title", n.Title)
	if a.o.Notifier == nil {
		return
	}
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := a.o.Notifier.Notify(ctx, n); err != nil {
			a.log.Debug("desktop notification failed", "id", n.ID, "err", err)
		}
	})
}

// outcome turns an action's error into its stable code; the raw error is
// for the log only.
func outcome(op model.Op, err error) model.Outcome {
	o := model.Outcome{Op: op}
	var ae *agentapi.Error
	switch {
	case err == nil:
	case errors.As(err, &ae):
		o.Code, o.Args, o.Message = ae.Code, ae.Args, ae.Message
		if o.Code == "" {
			o.Code = model.CodeUnknown
		}
	case errors.Is(err, agentclient.ErrAgentNotRunning):
		o.Code = model.CodeNotRunning
	default:
		o.Code = model.CodeUnknown
	}
	return o
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
	var ae *agentapi.Error
	switch {
	case errors.Is(err, agentclient.ErrAgentNotRunning):
		return update{conn: model.ConnAgentNotRunning}
	case errors.Is(err, fs.ErrPermission):
		return update{conn: model.ConnFailed, problem: model.ProblemPermission}
	case errors.Is(err, ErrConfig):
		return update{conn: model.ConnFailed, problem: model.ProblemConfig}
	case errors.As(err, &ae) && ae.Code == agentapi.ErrUnauthorized:
		return update{conn: model.ConnFailed, problem: model.ProblemUnauthorized}
	}
	return update{conn: model.ConnFailed, problem: model.ProblemOther}
}
