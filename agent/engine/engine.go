// Package engine is the agent's runtime: it holds the activation state, talks
// to the licensing server (activation, browser sign-in polling, check-ins,
// deactivation), and keeps a precomputed answer to "am I entitled?" that is
// refreshed on every state change and at the exact instants a lease expires or
// a license term ends, so Entitlement never touches the disk or the network.
package engine

import (
	"context"
	"errors"
	"fmt"
	"github.com/entitle/entitle/agent/commands"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/agent/state"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
)

// ProfileSource reports the signature-profile inventory (implemented by the
// profiles package).
type ProfileSource interface {
	Status(maxProfiles int) agentapi.ProfilesStatus
	Summary(maxProfiles int) protocol.ProfileSummary
	Changes() <-chan struct{}
}

// Options configures an Engine.
type Options struct {
	Config      config.Config
	Fingerprint string        // precomputed by the caller (fingerprint.Fingerprint)
	Keys        *lease.KeySet // pinned keys
	HTTPClient  *http.Client  // to the licensing server, with timeouts
	Now         func() time.Time
	Logger      *slog.Logger
	Version     string
	Profiles    ProfileSource // may be nil
	Catalog     *i18n.Bundle  // renders the English reason; nil: i18n.New()
}

// DefaultHTTPTimeout is the timeout of the HTTP client used when Options has none.
const DefaultHTTPTimeout = 30 * time.Second

// subscriberBuffer is how many events a slow subscriber may lag behind
// before events to it are dropped.
const subscriberBuffer = 16

// Engine is the agent's runtime. All methods are safe for concurrent use.
type Engine struct {
	cfg      config.Config
	fp       string
	keys     *lease.KeySet
	client   *http.Client
	now      func() time.Time
	log      *slog.Logger
	version  string
	profiles ProfileSource
	en       *i18n.Localizer // English, for Entitlement.Reason
	store    *state.Store
	commands *commands.Registry // remote commands (commands.go)
	facts    protocol.DeviceFacts
	jitter   func() float64 // in [0,1)
	// enrollKey is the formatted enrollment token (a license key; secret:
	// never log), or "" when none is configured or it is malformed.
	enrollKey string

	op   chan struct{} // one-slot semaphore: one server operation at a time
	wake chan struct{} // tells Run to re-plan its timers

	mu          sync.Mutex // guards the fields below
	st          state.State
	loadErr     error
	claims      *lease.Claims
	leaseErr    error
	lastErr     problem // the last problem of the agent's own work (problem.go)
	delivery    string  // agentapi.Delivery* (stream.go)
	nextCheckin time.Time
	nextPoll    time.Time
	failures    int
	markSaved   time.Time
	// Clock observations (clock.go): the last raw reading (with its
	// monotonic part) and its wall value; what the last save held.
	obsMono, obsWall time.Time
	seenSaved        time.Time
	debtSaved        time.Duration
	// Enrollment (enroll.go). untouched: no state file existed when New ran
	// and none was written since.
	untouched      bool
	enrollStopped  bool
	enrollFailures int
	nextEnroll     time.Time
	// Resuming an interrupted activation (ops.go, resumeOp).
	resumeFailures int
	nextResume     time.Time

	snap atomic.Pointer[snapshot]

	subMu sync.Mutex
	subs  map[chan agentapi.Event]struct{}

	// missing lists the settings the agent lacks (config.Missing); while
	// not empty the engine is not configured and does no server work.
	missing []string
}

type snapshot struct {
	ent    agentapi.Entitlement
	status agentapi.Status
}

// New loads and verifies the persisted state. Bad state never makes New fail:
// it is reported through Status and Entitlement. New fails only on bad options.
func New(opts Options) (*Engine, error) {
	if !lease.ValidFingerprint(opts.Fingerprint) {
		return nil, errors.New("engine: fingerprint must be 64 lowercase hex characters")
	}
	if err := opts.Config.Validate(); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	// Without a server or pinned keys the engine still runs: it answers
	// not_configured, saying what is missing, and never talks to a server.
	missing := opts.Config.Missing()
	if opts.Keys.Len() == 0 && !slices.Contains(missing, "pinned_keys") {
		missing = append(missing, "pinned_keys")
	}
	e := &Engine{
		cfg: opts.Config, fp: opts.Fingerprint, keys: opts.Keys, client: opts.HTTPClient,
		now: opts.Now, log: opts.Logger, version: opts.Version, profiles: opts.Profiles,
		store:    state.NewStore(opts.Config.StateDir),
		commands: commands.New(),
		jitter:   randFloat,
		op:       make(chan struct{}, 1),
		wake:     make(chan struct{}, 1),
		subs:     make(map[chan agentapi.Event]struct{}),
		missing:  missing,
	}
	cat := opts.Catalog
	if cat == nil {
		cat = i18n.New()
	}
	e.en = cat.Localizer(i18n.English)
	if e.client == nil {
		e.client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e.log = slog.New(MaskKeys(e.log.Handler()))
	if e.version == "" {
		e.version = "dev"
	}
	host, _ := os.Hostname()
	if len(host) > 255 {
		host = host[:255]
	}
	e.facts = protocol.DeviceFacts{Hostname: host, OS: runtime.GOOS, Arch: runtime.GOARCH, AgentVersion: e.version}

	// Whether the folder never held an activation is decided before Load:
	// Load answers an empty State both for a missing file and for nothing.
	_, statErr := os.Lstat(e.store.Path())
	st, err := e.store.Load()
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.loadErr = err
		e.log.Warn("state refused", "path", e.store.Path(), "err", err)
	}
	e.setStateLocked(st)
	// A folder holding only an unfinished enrollment attempt never held an
	// activation either (enroll.go).
	e.untouched = err == nil && (errors.Is(statErr, fs.ErrNotExist) || onlyEnrollment(&st))
	now := e.now()
	e.markSaved, e.seenSaved, e.debtSaved = e.st.TrustedTime, e.st.ClockSeen, e.st.ClockSetBack
	if e.canCheckinLocked() {
		e.nextCheckin = now
	}
	if e.st.Pending != nil {
		e.nextPoll = now
	}
	if e.resumingLocked() {
		e.nextResume = now
		e.log.Info("an activation was interrupted before its answer was saved: finishing it")
	}
	if len(e.missing) > 0 {
		e.log.Warn("the agent is not configured: it answers not_configured until these settings are set", "missing", e.missing)
	}
	if tok := opts.Config.EnrollmentToken; tok.IsSet() && e.untouched {
		key, kerr := enrollKey(tok.Reveal())
		if kerr != nil {
			e.lastErr = problem{code: agentapi.ProblemEnrollmentTokenInvalid, args: map[string]string{"kind": enrollTokenKind(tok.Reveal())}, msg: kerr.Error()}
			e.log.Error("enrollment token refused", "err", kerr)
		} else {
			e.enrollKey, e.nextEnroll = key, now
			e.log.Info("this computer was never activated: activating with the enrollment token")
		}
	}
	e.recomputeLocked()
	return e, nil
}

// onlyEnrollment reports whether st holds nothing but the record of an
// enrollment attempt.
func onlyEnrollment(st *state.State) bool {
	return st.Activating != nil && st.Activating.Method == state.ActivatingEnrollment &&
		!st.Activated() && st.Pending == nil && st.Reason == ""
}

// setStateLocked installs st and re-verifies its lease signature.
func (e *Engine) setStateLocked(st state.State) {
	e.st = st
	e.claims, e.leaseErr = nil, nil
	if st.Lease != "" {
		e.claims, e.leaseErr = lease.Parse(st.Lease, e.keys)
	}
}

// viewLocked builds the view at now; the view holds the wall reading only.
func (e *Engine) viewLocked(now time.Time) view {
	v := view{now: now.Round(0), missing: e.missing, fingerprint: e.fp, loadErr: e.loadErr, st: &e.st, claims: e.claims, leaseErr: e.leaseErr,
		defaultMgmt: e.cfg.ManagementMode}
	if e.profiles != nil {
		v.profileCount = e.profiles.Status(e.maxProfilesLocked()).Usable // what a signing app can use
	}
	return v
}

func (e *Engine) maxProfilesLocked() int {
	if e.claims != nil {
		return e.claims.License.MaxProfiles
	}
	return 0
}

// canCheckinLocked reports whether there is an activation of this computer
// to check in with. A foreign or refused state is never sent to the server:
// its credential belongs to someone else or cannot be trusted.
func (e *Engine) canCheckinLocked() bool {
	return len(e.missing) == 0 && e.loadErr == nil && e.st.Activated() && (e.claims == nil || e.claims.Fingerprint == e.fp)
}

// recomputeLocked refreshes the trusted-time mark, the entitlement and the
// status, and publishes a status event when anything changed.
func (e *Engine) recomputeLocked() {
	now := e.observeClockLocked(e.now())
	v := e.viewLocked(now)
	ent := compute(v)
	ent.Reason = e.reasonText(ent)
	status := e.statusLocked(v, ent)
	old := e.snap.Swap(&snapshot{ent: ent, status: status})
	if old != nil && old.ent.State != ent.State {
		e.log.Info("entitlement changed", "state", ent.State, "reason", ent.Reason)
	}
	if old == nil || !sameStatus(old.status, status) {
		e.publish(agentapi.Event{Type: agentapi.EventStatus, Time: now, Status: &status})
	}
}

func sameStatus(a, b agentapi.Status) bool {
	a.Entitlement.CheckedAt, b.Entitlement.CheckedAt = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func (e *Engine) statusLocked(v view, ent agentapi.Entitlement) agentapi.Status {
	s := agentapi.Status{
		Entitlement:   ent,
		Activated:     v.mine() || (e.st.Activated() && e.claims == nil && e.loadErr == nil),
		ServerURL:     e.cfg.ServerURL,
		LastError:     e.lastErr.msg,
		LastErrorCode: e.lastErr.code,
		LastErrorArgs: maps.Clone(e.lastErr.args),
		HelpURL:       e.cfg.HelpURL,
		AgentVersion:  e.version,
		MissingConfig: slices.Clone(e.missing),
	}
	if s.Activated {
		s.Delivery = e.delivery
	}
	if e.loadErr == nil {
		s.Account, s.Organization = e.st.Account, e.st.Organization
		s.LastCheckin = e.st.LastCheckin
		s.OfflineSince = e.st.OfflineSince
	}
	if v.mine() {
		c := v.claims
		if c.Account != "" {
			s.Account = c.Account
		}
		if c.Organization != "" {
			s.Organization = c.Organization
		}
		s.Workspace = c.Workspace
		if s.OfflineSince != nil {
			s.GraceUntil = timePtr(c.ExpiryTime().UTC())
		}
	}
	if s.Activated && e.canCheckinLocked() && !e.nextCheckin.IsZero() {
		s.NextCheckin = timePtr(e.nextCheckin)
	}
	if p := e.st.Pending; p != nil && e.loadErr == nil {
		s.Pending = &agentapi.PendingAuth{UserCode: p.UserCode, VerificationURI: p.VerificationURI,
			VerificationURIComplete: p.VerificationURIComplete, ExpiresAt: p.ExpiresAt}
	}
	if e.profiles != nil {
		ps := e.profiles.Status(e.maxProfilesLocked())
		s.Profiles = &ps
	}
	s.DeactivateOK = s.Activated || v.foreign() || e.loadErr != nil || e.st.Pending != nil || e.st.Activating != nil
	if v.remoteManaged() {
		org := s.Organization
		if org == "" {
			org = "your organization"
		}
		s.DeactivateOK = false
		s.DeactivateNote = fmt.Sprintf("managed remotely by %s; ask your administrator", org)
		s.DeactivateNoteCode = agentapi.NoteManagedRemotely
	}
	return s
}

// Entitlement returns the precomputed answer for feature ("" = the product in
// general). It does no disk or network work. The general answer is the
// engine's own immutable snapshot, shared by every caller (who must not modify
// it): its pointer changes exactly when the answer does, which is how the
// local API knows when to re-serialize.
func (e *Engine) Entitlement(feature string) *agentapi.Entitlement {
	snap := e.snap.Load()
	if feature == "" {
		return &snap.ent
	}
	ent := forFeature(snap.ent, feature)
	if ent.ReasonCode != snap.ent.ReasonCode {
		ent.Reason = e.reasonText(ent)
	}
	return &ent
}

// Status returns the current status. Its pointer fields are shared and must
// not be modified.
func (e *Engine) Status() agentapi.Status {
	s := e.snap.Load().status
	s.Entitlement = forFeature(s.Entitlement, "")
	return s
}

// Subscribe returns a channel of events, starting with the current status.
// It is closed when ctx ends. A subscriber that does not keep up loses
// events; it never blocks the engine.
func (e *Engine) Subscribe(ctx context.Context) <-chan agentapi.Event {
	ch := make(chan agentapi.Event, subscriberBuffer)
	s := e.Status()
	ch <- agentapi.Event{Type: agentapi.EventStatus, Time: e.now(), Status: &s}
	e.subMu.Lock()
	e.subs[ch] = struct{}{}
	e.subMu.Unlock()
	context.AfterFunc(ctx, func() {
		e.subMu.Lock()
		defer e.subMu.Unlock()
		delete(e.subs, ch)
		close(ch)
	})
	return ch
}

func (e *Engine) publish(ev agentapi.Event) {
	e.subMu.Lock()
	defer e.subMu.Unlock()
	for ch := range e.subs {
		select {
		case ch <- ev:
		default: // slow subscriber: drop
		}
	}
}

// poke asks Run to re-plan its timers.
func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// saveLocked persists the state; failures are logged and returned. Once the
// engine wrote a state file the folder is no longer untouched: enrollment ends.
func (e *Engine) saveLocked() error {
	e.untouched = false
	if err := e.store.Save(e.st); err != nil {
		e.log.Error("cannot save state", "path", e.store.Path(), "err", err)
		return err
	}
	e.markSaved, e.seenSaved, e.debtSaved = e.st.TrustedTime, e.st.ClockSeen, e.st.ClockSetBack
	return nil
}
