package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/entitle/entitle/agent/state"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/protocol"
)

// Input bounds for activation requests.
const (
	maxLicenseKey = 256
	maxEmail      = 320
	maxPassword   = 1024
)

func badRequest(msg string) *agentapi.Error {
	return &agentapi.Error{Code: agentapi.ErrBadRequest, Message: msg}
}

// Activate activates this computer by license key, by email and password, or
// starts a browser sign-in ("browser": the answer carries the code to show and
// Run polls the server until the person approves, denies or the code expires).
func (e *Engine) Activate(ctx context.Context, req agentapi.ActivateRequest) (agentapi.ActivateResponse, error) {
	if err := e.configured(); err != nil {
		return agentapi.ActivateResponse{}, err
	}
	preq := protocol.ActivateRequest{Fingerprint: e.fp, Product: e.cfg.ProductID, Device: e.facts}
	switch req.Method {
	case agentapi.ActivateLicenseKey:
		key := strings.TrimSpace(req.LicenseKey)
		if key == "" || len(key) > maxLicenseKey {
			return agentapi.ActivateResponse{}, badRequest("license_key must be 1 to 256 characters")
		}
		norm, err := licensekey.Normalize(key)
		if err != nil {
			return agentapi.ActivateResponse{}, badRequest(err.Error())
		}
		preq.Method, preq.LicenseKey = protocol.MethodLicenseKey, licensekey.Format(norm)
	case agentapi.ActivatePassword:
		email := strings.TrimSpace(req.Email)
		if email == "" || len(email) > maxEmail || !strings.Contains(email, "@") {
			return agentapi.ActivateResponse{}, badRequest("email must be an email address")
		}
		if req.Password == "" || len(req.Password) > maxPassword {
			return agentapi.ActivateResponse{}, badRequest("password must be 1 to 1024 characters")
		}
		preq.Method, preq.Email, preq.Password = protocol.MethodPassword, email, req.Password
	case agentapi.ActivateBrowser:
	default:
		return agentapi.ActivateResponse{}, badRequest(`method must be "license_key", "password" or "browser"`)
	}
	if !e.acquire(ctx) {
		return agentapi.ActivateResponse{}, e.apiError(ctx.Err())
	}
	defer e.release()
	e.mu.Lock()
	if e.canCheckinLocked() && e.claims != nil {
		e.mu.Unlock()
		return agentapi.ActivateResponse{}, &agentapi.Error{Code: agentapi.ErrConflict, Message: "this computer is already activated; deactivate it first"}
	}
	e.mu.Unlock()

	if req.Method == agentapi.ActivateBrowser {
		return e.startBrowser(ctx)
	}
	act := &state.Activating{Method: state.ActivatingPassword, Email: preq.Email}
	if preq.Method == protocol.MethodLicenseKey {
		act = &state.Activating{Method: state.ActivatingLicenseKey, LicenseKey: preq.LicenseKey}
	}
	if err := e.beginActivationLocked(act); err != nil {
		return agentapi.ActivateResponse{}, e.apiError(err)
	}
	preq.Nonce = act.Nonce
	var resp protocol.ActivateResponse
	err := e.call(ctx, http.MethodPost, protocol.PathActivations, "", preq, &resp)
	if err == nil {
		err = e.acceptActivation(resp, act.Nonce)
	}
	if err != nil {
		e.activationFailed(act, err)
		e.log.Info("activation failed", "method", preq.Method, "err", e.masked(err))
		return agentapi.ActivateResponse{}, e.apiError(err)
	}
	e.log.Info("activated", "method", preq.Method)
	return agentapi.ActivateResponse{Status: e.Status()}, nil
}

// configured returns ErrNotConfigured while settings are missing.
func (e *Engine) configured() error {
	if len(e.missing) == 0 {
		return nil
	}
	return &agentapi.Error{Code: agentapi.ErrNotConfigured, Message: notConfiguredReason(e.missing)}
}

// beginActivationLocked records act (with a fresh nonce) in the state file
// before the request leaves: if the agent dies between the server's commit
// and its own save, the next start knows it asked (resumeOp). The caller
// holds the op semaphore.
func (e *Engine) beginActivationLocked(act *state.Activating) error {
	act.Nonce = rand.Text()
	e.mu.Lock()
	defer e.mu.Unlock()
	act.StartedAt = e.now().Round(0).UTC()
	if e.loadErr != nil {
		// A refused state holds nothing to keep (Load answered it empty).
		e.loadErr = nil
		e.setStateLocked(e.st.Clock())
	}
	// A foreign activation, or one whose lease the pinned keys cannot
	// verify, stays until the answer replaces it: if the server refuses,
	// its credential (and so its seat) is not lost.
	e.st.Pending, e.st.Reason = nil, ""
	e.st.Activating = act
	e.lastErr, e.resumeFailures = problem{}, 0
	if err := e.saveLocked(); err != nil {
		e.st.Activating = nil
		return &agentapi.Error{Code: agentapi.ErrInternalError, Message: "cannot record the activation before sending it: " + err.Error()}
	}
	e.recomputeLocked()
	return nil
}

// activationFailed decides what remains of the activation act after err.
// When the server may have committed it (it could not be reached, or
// failed) the record stays: Run resumes a license-key activation, and an
// interrupted password activation (a password is never stored) tells the
// person to activate again. A refusal ends it.
func (e *Engine) activationFailed(act *state.Activating, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.st.Activating == nil || e.st.Activating.Nonce != act.Nonce {
		return
	}
	if mayResume(err) && e.resumeFailures < maxResumeAttempts {
		if act.Method != state.ActivatingPassword {
			e.resumeFailures++
			e.nextResume = e.now().Add(backoff(e.resumeFailures, e.jitter()))
			ae := e.apiError(err)
			e.lastErr = failure(agentapi.ProblemActivationRetrying, ae, "activation not finished (will retry): "+ae.Message)
		}
		e.recomputeLocked()
		e.poke()
		return
	}
	e.st.Activating = nil
	_ = e.saveLocked()
	e.recomputeLocked()
}

// maxResumeAttempts bounds how often an interrupted activation is resent
// (with the check-in backoff, about four hours): an answer the agent keeps
// refusing (e.g. a lease no pinned key verifies) must not re-activate the
// computer on the server forever.
const maxResumeAttempts = 20

// mayResume reports whether err leaves open that the server committed the
// activation: no answer, a server failure, or an answer the agent refused
// to store for a reason that may pass. A refusal by the server does not.
func mayResume(err error) bool {
	var ue *upstreamError
	var ne *networkError
	return errors.As(err, &ne) || (errors.As(err, &ue) && ue.transient()) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// acceptActivation verifies and stores a successful activation answer to
// the request that carried nonce.
func (e *Engine) acceptActivation(resp protocol.ActivateResponse, nonce string) error {
	if !validCredential(resp.Credential) {
		return badUpstream("missing or malformed device credential")
	}
	if resp.DeviceID == "" || len(resp.DeviceID) > 256 {
		return badUpstream("missing or malformed device id")
	}
	c, err := e.verifyLease(resp.Lease, resp.DeviceID, nil)
	if err != nil {
		return err
	}
	if nonce != "" && c.Nonce != nonce {
		return errReplayed("the activation answer does not carry this request's nonce")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	st := e.st.Clock()
	st.Lease, st.DeviceID, st.Credential, st.ServerURL = resp.Lease, resp.DeviceID, resp.Credential, e.cfg.ServerURL
	st.Account, st.Organization = cleanText(c.Account, 256), cleanText(c.Organization, 256)
	st.CheckinAfter = max(min(resp.CheckinAfter, int(MaxCheckin/time.Second)), 0)
	st.LastCheckin = timePtr(now.Round(0).UTC())
	st.LeaseIssuedMax = max(st.LeaseIssuedMax, c.IssuedAt)
	e.loadErr = nil
	e.setStateLocked(st)
	e.rebaseClockLocked(now, c.IssuedTime())
	e.failures, e.lastErr, e.resumeFailures = 0, problem{}, 0
	e.nextCheckin = now.Add(e.checkinDelayLocked(now))
	saveErr := e.saveLocked()
	e.recomputeLocked()
	e.poke()
	if saveErr != nil {
		return &agentapi.Error{Code: agentapi.ErrInternalError, Message: "activated, but the activation could not be saved: " + saveErr.Error()}
	}
	return nil
}

// resumingLocked reports whether an interrupted activation can be finished
// without a person: its request is known whole (a license key, stored or
// the configured enrollment token).
func (e *Engine) resumingLocked() bool {
	a := e.st.Activating
	mine := e.st.Activated() && e.claims != nil && e.claims.Fingerprint == e.fp
	if a == nil || len(e.missing) > 0 || e.loadErr != nil || mine {
		return false
	}
	switch a.Method {
	case state.ActivatingLicenseKey:
		return a.LicenseKey != ""
	case state.ActivatingEnrollment:
		return false // enrollment resumes through enrollOp, with the same record
	}
	return false
}

// resumeOp sends an interrupted activation again, with its nonce. The server
// answers a repeated activation of this fingerprint with the seat it already
// holds, so the seat taken before the interruption is this one. The caller
// holds the op semaphore.
func (e *Engine) resumeOp(ctx context.Context) {
	e.mu.Lock()
	if !e.resumingLocked() {
		e.mu.Unlock()
		return
	}
	act := *e.st.Activating
	e.mu.Unlock()
	preq := protocol.ActivateRequest{Fingerprint: e.fp, Product: e.cfg.ProductID, Device: e.facts,
		Method: protocol.MethodLicenseKey, LicenseKey: act.LicenseKey, Nonce: act.Nonce}
	var resp protocol.ActivateResponse
	err := e.call(ctx, http.MethodPost, protocol.PathActivations, "", preq, &resp)
	if err == nil {
		err = e.acceptActivation(resp, act.Nonce)
	}
	if err == nil {
		e.log.Info("activated", "method", "resumed")
		return
	}
	if ctx.Err() != nil {
		return
	}
	e.log.Warn("resuming the interrupted activation failed", "err", e.masked(err))
	e.activationFailed(&act, err)
	e.mu.Lock()
	if e.st.Activating == nil {
		ae := e.apiError(err)
		e.lastErr = failure(agentapi.ProblemActivationRefused, ae, "the interrupted activation was refused: "+ae.Message)
		e.recomputeLocked()
	}
	e.mu.Unlock()
}

// startBrowser begins an RFC 8628 device authorization.
func (e *Engine) startBrowser(ctx context.Context) (agentapi.ActivateResponse, error) {
	resp, err := e.deviceAuthorize(ctx)
	if err != nil {
		return agentapi.ActivateResponse{}, e.apiError(err)
	}
	p, err := validPending(resp, e.now())
	if err != nil {
		return agentapi.ActivateResponse{}, e.apiError(err)
	}
	e.mu.Lock()
	if e.loadErr != nil || !e.canCheckinLocked() {
		// Replace a refused or foreign state: it is not this computer's.
		e.loadErr = nil
		e.setStateLocked(e.st.Clock())
	}
	e.st.Activating = nil
	e.st.Pending = p
	e.st.Reason, e.st.ReasonCode = "", ""
	e.lastErr = problem{}
	e.nextPoll = e.now().Add(time.Duration(p.Interval) * time.Second)
	_ = e.saveLocked()
	e.recomputeLocked()
	e.mu.Unlock()
	e.poke()
	e.log.Info("browser sign-in started", "verification_uri", p.VerificationURI, "expires_at", p.ExpiresAt)
	st := e.Status()
	return agentapi.ActivateResponse{Status: st, Pending: st.Pending}, nil
}

func validPending(r protocol.DeviceAuthorizeResponse, now time.Time) (*state.Pending, error) {
	if r.DeviceCode == "" || len(r.DeviceCode) > 512 || !validCredential(r.DeviceCode) {
		return nil, badUpstream("missing or malformed device code")
	}
	if r.UserCode == "" || len(r.UserCode) > 32 {
		return nil, badUpstream("missing or malformed user code")
	}
	for i, raw := range []string{r.VerificationURI, r.VerificationURIComplete} {
		if i == 1 && raw == "" {
			continue // optional
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > 1024 {
			return nil, badUpstream("malformed verification URI")
		}
	}
	expires := min(max(r.ExpiresIn, 10), 3600)
	interval := min(max(r.Interval, 1), 60)
	if r.Interval == 0 {
		interval = 5 // RFC 8628 section 3.2 default
	}
	return &state.Pending{
		DeviceCode: r.DeviceCode, UserCode: cleanText(r.UserCode, 32), VerificationURI: r.VerificationURI,
		VerificationURIComplete: r.VerificationURIComplete, ExpiresAt: now.Add(time.Duration(expires) * time.Second).UTC(),
		Interval: interval,
	}, nil
}

// pollLocked polls the device-token endpoint once. The caller holds the op
// semaphore.
func (e *Engine) pollLocked(ctx context.Context) {
	e.mu.Lock()
	p := e.st.Pending
	now := e.now()
	if p == nil {
		e.mu.Unlock()
		return
	}
	if !now.Before(p.ExpiresAt) {
		e.endPendingLocked(agentapi.ReasonSignInExpired, nil, "the browser sign-in code expired; start the sign-in again")
		e.mu.Unlock()
		return
	}
	code := p.DeviceCode
	e.mu.Unlock()

	resp, err := e.deviceToken(ctx, code)
	if err == nil {
		if err = e.acceptActivation(resp, ""); err == nil {
			e.log.Info("activated", "method", "browser")
			return
		}
	}
	if ctx.Err() != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.st.Pending == nil || e.st.Pending.DeviceCode != code {
		return
	}
	now = e.now()
	var ue *upstreamError
	var ne *networkError
	switch {
	case errors.As(err, &ue) && ue.body.Code == protocol.ErrAuthorizationPending:
	case errors.As(err, &ue) && ue.body.Code == protocol.ErrSlowDown:
		e.st.Pending.Interval = min(e.st.Pending.Interval+5, 60) // RFC 8628 section 3.5
		_ = e.saveLocked()
	case errors.As(err, &ue) && ue.body.Code == protocol.ErrAccessDenied:
		e.endPendingLocked(agentapi.ReasonSignInDenied, nil, "the sign-in was denied in the browser")
		return
	case errors.As(err, &ue) && ue.body.Code == protocol.ErrExpiredToken:
		e.endPendingLocked(agentapi.ReasonSignInExpired, nil, "the browser sign-in code expired; start the sign-in again")
		return
	case errors.As(err, &ne) || (errors.As(err, &ue) && ue.transient()):
		ae := e.apiError(err)
		e.lastErr = failure(agentapi.ProblemSignInPollFailed, ae, ae.Message)
	default:
		ae := e.apiError(err)
		e.endPendingLocked(agentapi.ReasonSignInFailed, ae, ae.Message)
		return
	}
	e.nextPoll = now.Add(min(time.Duration(e.st.Pending.Interval)*time.Second, maxPollWait))
	e.recomputeLocked()
}

// endPendingLocked ends a browser sign-in with a reason code, which is the
// last problem's code too (with ae's code as its error, when there is one);
// why is the English detail kept for logs as the last error (and, for a
// failure, as the reason's detail).
func (e *Engine) endPendingLocked(code string, ae *agentapi.Error, why string) {
	e.st.Pending = nil
	e.lastErr = problem{code: code, msg: why}
	if ae != nil {
		e.lastErr = failure(code, ae, why)
	}
	e.st.ReasonCode, e.st.Reason = code, ""
	if code == agentapi.ReasonSignInFailed {
		e.st.Reason = why
	}
	_ = e.saveLocked()
	e.recomputeLocked()
	e.log.Info("browser sign-in ended", "why", why)
}

// Deactivate releases this computer's seat on the server and clears the
// local activation. When the server cannot be reached the activation is kept
// (ErrUnavailable), so the seat is not silently lost. A foreign or refused
// state, or a pending sign-in, is cleared locally.
func (e *Engine) Deactivate(ctx context.Context) error {
	if err := e.configured(); err != nil {
		return err
	}
	if !e.acquire(ctx) {
		return e.apiError(ctx.Err())
	}
	defer e.release()
	e.mu.Lock()
	v := e.viewLocked(e.now())
	switch {
	case e.loadErr != nil || v.foreign() || (!e.st.Activated() && (e.st.Pending != nil || e.st.Activating != nil)):
		e.clearLocked()
		e.mu.Unlock()
		e.log.Info("local state cleared")
		return nil
	case !e.st.Activated():
		e.mu.Unlock()
		return &agentapi.Error{Code: agentapi.ErrConflict, Message: "this computer is not activated"}
	case v.remoteManaged():
		note := e.snap.Load().status.DeactivateNote
		e.mu.Unlock()
		return &agentapi.Error{Code: agentapi.ErrForbidden, Message: note}
	}
	cred := e.st.Credential
	e.mu.Unlock()

	err := e.call(ctx, http.MethodDelete, protocol.PathDevice, cred, nil, nil)
	var ue *upstreamError
	if err != nil && !(errors.As(err, &ue) && (ue.status == http.StatusGone || ue.status == http.StatusUnauthorized)) {
		ae := e.apiError(err)
		if ae.Code == agentapi.ErrUnavailable {
			ae.Message += "; the activation is kept so its seat is not lost: deactivate again when the server is reachable"
		}
		e.log.Warn("deactivation failed", "err", err)
		return ae
	}
	e.mu.Lock()
	e.clearLocked()
	e.mu.Unlock()
	e.log.Info("deactivated")
	return nil
}

func (e *Engine) clearLocked() {
	kept := e.st.Clock()
	if e.loadErr != nil {
		kept = state.State{}
	}
	e.loadErr = nil
	e.setStateLocked(kept)
	e.lastErr, e.failures = problem{}, 0
	e.nextCheckin, e.nextPoll = time.Time{}, time.Time{}
	_ = e.saveLocked()
	e.recomputeLocked()
}

// CheckNow checks in with the server immediately (or polls a pending browser
// sign-in) and returns the outcome.
func (e *Engine) CheckNow(ctx context.Context) error {
	if err := e.configured(); err != nil {
		return err
	}
	if !e.acquire(ctx) {
		return e.apiError(ctx.Err())
	}
	defer e.release()
	e.mu.Lock()
	pending := e.st.Pending != nil
	v := e.viewLocked(e.now())
	foreign := v.foreign()
	e.mu.Unlock()
	switch {
	case pending:
		e.pollLocked(ctx)
		return nil
	case foreign:
		return &agentapi.Error{Code: agentapi.ErrConflict, Message: ForeignReason}
	}
	err := e.checkinOp(ctx)
	e.poke()
	return err
}

// notConfiguredReason is the English message of ErrNotConfigured (for logs;
// people read the reason_code not_configured rendered from the catalog).
func notConfiguredReason(missing []string) string {
	return fmt.Sprintf("this agent is not configured: %s missing; set them in agent.toml, the ENTITLE_* environment or the flags, "+
		"then restart the agent (pinned keys: run `entitle-server keys show` on the server, or read its JWK set at GET <server_url>%s)",
		strings.Join(missing, " and "), protocol.PathKeys)
}
