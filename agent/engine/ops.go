package engine

import (
	"context"
	"errors"
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
	var resp protocol.ActivateResponse
	if err := e.call(ctx, http.MethodPost, protocol.PathActivations, "", preq, &resp); err != nil {
		e.log.Info("activation failed", "method", preq.Method, "err", err)
		return agentapi.ActivateResponse{}, e.apiError(err)
	}
	if err := e.acceptActivation(resp); err != nil {
		return agentapi.ActivateResponse{}, e.apiError(err)
	}
	e.log.Info("activated", "method", preq.Method)
	return agentapi.ActivateResponse{Status: e.Status()}, nil
}

// acceptActivation verifies and stores a successful activation answer.
func (e *Engine) acceptActivation(resp protocol.ActivateResponse) error {
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
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	mark := now
	if c.IssuedTime().After(mark) {
		mark = c.IssuedTime()
	}
	st := state.State{
		Lease: resp.Lease, DeviceID: resp.DeviceID, Credential: resp.Credential, ServerURL: e.cfg.ServerURL,
		Account: cleanText(c.Account, 256), Organization: cleanText(c.Organization, 256),
		CheckinAfter: max(min(resp.CheckinAfter, int(MaxCheckin/time.Second)), 0),
		TrustedTime:  mark, LastCheckin: timePtr(now.UTC()),
	}
	e.loadErr = nil
	e.setStateLocked(st)
	e.failures, e.lastError = 0, ""
	e.nextCheckin = now.Add(e.checkinDelayLocked(now))
	saveErr := e.saveLocked()
	e.recomputeLocked()
	e.poke()
	if saveErr != nil {
		return &agentapi.Error{Code: agentapi.ErrInternalError, Message: "activated, but the activation could not be saved: " + saveErr.Error()}
	}
	return nil
}

// startBrowser begins an RFC 8628 device authorization.
func (e *Engine) startBrowser(ctx context.Context) (agentapi.ActivateResponse, error) {
	var resp protocol.DeviceAuthorizeResponse
	req := protocol.DeviceAuthorizeRequest{Fingerprint: e.fp, Product: e.cfg.ProductID, Device: e.facts}
	if err := e.call(ctx, http.MethodPost, protocol.PathDeviceAuthorize, "", req, &resp); err != nil {
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
		e.setStateLocked(state.State{TrustedTime: e.st.TrustedTime})
	}
	e.st.Pending = p
	e.st.Reason, e.st.ReasonCode = "", ""
	e.lastError = ""
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
		e.endPendingLocked(agentapi.ReasonSignInExpired, "the browser sign-in code expired; start the sign-in again")
		e.mu.Unlock()
		return
	}
	code := p.DeviceCode
	e.mu.Unlock()

	var resp protocol.ActivateResponse
	err := e.call(ctx, http.MethodPost, protocol.PathDeviceToken, "", protocol.DeviceTokenRequest{DeviceCode: code}, &resp)
	if err == nil {
		if err = e.acceptActivation(resp); err == nil {
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
		e.endPendingLocked(agentapi.ReasonSignInDenied, "the sign-in was denied in the browser")
		return
	case errors.As(err, &ue) && ue.body.Code == protocol.ErrExpiredToken:
		e.endPendingLocked(agentapi.ReasonSignInExpired, "the browser sign-in code expired; start the sign-in again")
		return
	case errors.As(err, &ne) || (errors.As(err, &ue) && ue.transient()):
		e.lastError = e.apiError(err).Message
	default:
		e.endPendingLocked(agentapi.ReasonSignInFailed, e.apiError(err).Message)
		return
	}
	e.nextPoll = now.Add(min(time.Duration(e.st.Pending.Interval)*time.Second, maxPollWait))
	e.recomputeLocked()
}

// endPendingLocked ends a browser sign-in with a reason code; why is the
// English detail shown as the last error (and, for a failure, as the
// reason's detail).
func (e *Engine) endPendingLocked(code, why string) {
	e.st.Pending = nil
	e.lastError = why
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
	if !e.acquire(ctx) {
		return e.apiError(ctx.Err())
	}
	defer e.release()
	e.mu.Lock()
	v := e.viewLocked(e.now())
	switch {
	case e.loadErr != nil || v.foreign() || (!e.st.Activated() && e.st.Pending != nil):
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
	mark := e.st.TrustedTime
	if e.loadErr != nil {
		mark = time.Time{}
	}
	e.loadErr = nil
	e.setStateLocked(state.State{TrustedTime: mark})
	e.lastError, e.failures = "", 0
	e.nextCheckin, e.nextPoll = time.Time{}, time.Time{}
	_ = e.saveLocked()
	e.recomputeLocked()
}

// CheckNow checks in with the server immediately (or polls a pending browser
// sign-in) and returns the outcome.
func (e *Engine) CheckNow(ctx context.Context) error {
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
