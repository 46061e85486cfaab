package engine

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
)

// Scheduling bounds.
const (
	MinCheckin     = 60 * time.Second // floor of the server's check-in interval
	MaxCheckin     = 24 * time.Hour   // ceiling of the server's check-in interval
	DefaultCheckin = time.Hour        // when the server names no interval
	BackoffBase    = 5 * time.Second  // first retry ceiling after a failed check-in
	BackoffMax     = 15 * time.Minute // retry ceiling
	minDelay       = time.Second      // no two server requests of the loop closer than this
	tickInterval   = time.Minute      // clock-rollback check and trusted-time mark refresh
	markPersist    = 10 * time.Minute // how stale the persisted mark may get
	maxPollWait    = time.Minute
)

// backoff returns the wait before retry number failures (1 = first retry):
// full jitter, uniformly in [0, min(BackoffMax, BackoffBase*2^(failures-1))),
// floored at one second so it is never a tight loop.
func backoff(failures int, r float64) time.Duration {
	ceil := BackoffBase
	for i := 1; i < failures && ceil < BackoffMax; i++ {
		ceil *= 2
	}
	ceil = min(ceil, BackoffMax)
	if r < 0 || r >= 1 {
		r = 0.5
	}
	return max(time.Duration(r*float64(ceil)), minDelay)
}

// checkinDelay returns when to check in next: the server's interval clamped to
// [MinCheckin, MaxCheckin], but early enough to renew the lease before it
// expires (at two thirds of its life), and never sooner than a second.
func (e *Engine) checkinDelayLocked(now time.Time) time.Duration {
	d := DefaultCheckin
	switch {
	case e.st.CheckinAfter > 0:
		d = time.Duration(e.st.CheckinAfter) * time.Second
	case e.claims != nil && e.claims.CheckinAt > 0 && e.claims.CheckinTime().After(now):
		d = e.claims.CheckinTime().Sub(now)
	}
	d = min(max(d, MinCheckin), MaxCheckin)
	if c := e.claims; c != nil && c.Expiry > c.IssuedAt {
		renew := c.IssuedTime().Add(c.ExpiryTime().Sub(c.IssuedTime()) * 2 / 3)
		d = min(d, renew.Sub(now))
	}
	return max(d, minDelay)
}

// Run drives check-ins, browser sign-in polling, activation with the
// enrollment token (enroll.go) and the entitlement timers until ctx ends;
// then it returns nil.
func (e *Engine) Run(ctx context.Context) error {
	streamDone := make(chan struct{})
	go func() { defer close(streamDone); e.runStream(ctx) }()
	defer func() { <-streamDone }()
	var changes <-chan struct{}
	if e.profiles != nil {
		changes = e.profiles.Changes()
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		timer.Reset(e.nextWake())
		select {
		case <-ctx.Done():
			return nil
		case <-e.wake:
		case _, ok := <-changes:
			if !ok {
				changes = nil
			}
			e.refresh()
		case <-timer.C:
			e.step(ctx)
		}
	}
}

// nextWake returns how long Run may sleep before something is due.
func (e *Engine) nextWake() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	next := now.Add(tickInterval)
	consider := func(t time.Time) {
		if !t.IsZero() && t.Before(next) {
			next = t
		}
	}
	if e.canCheckinLocked() {
		consider(e.nextCheckin)
	}
	if e.st.Pending != nil {
		consider(e.nextPoll)
	}
	if e.enrollingLocked() {
		consider(e.nextEnroll)
	}
	if e.resumingLocked() {
		consider(e.nextResume)
	}
	for _, t := range changeInstants(e.viewLocked(now)) {
		consider(t)
	}
	return max(next.Sub(now), 0)
}

// refresh recomputes the entitlement (timers, clock checks) and keeps the
// persisted trusted-time mark reasonably fresh. A folder that never held a
// state file is left alone: it has no activation whose clock check the mark
// protects (activating re-bases the mark), and writing one would make the
// computer look as if it had been activated and deactivated (enroll.go).
func (e *Engine) refresh() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.recomputeLocked()
	// Offline, the saved reading is what a restart measures a set-back
	// against, and the server cannot vouch for the time: it is saved at
	// every tick, so stopping the agent and setting the clock back gains at
	// most a minute (docs/threat-model.md).
	every := markPersist
	if e.st.OfflineSince != nil {
		every = tickInterval / 2
	}
	if e.loadErr == nil && !e.untouched && (e.st.TrustedTime.Sub(e.markSaved) >= markPersist ||
		e.st.ClockSeen.Sub(e.seenSaved) >= every || e.st.ClockSetBack != e.debtSaved) {
		// A set-back is saved at once, so stopping the agent cannot forget it.
		_ = e.saveLocked()
	}
}

// step does whatever is due.
func (e *Engine) step(ctx context.Context) {
	e.refresh()
	e.mu.Lock()
	now := e.now()
	checkinDue := e.canCheckinLocked() && !e.nextCheckin.IsZero() && !now.Before(e.nextCheckin)
	pollDue := e.st.Pending != nil && len(e.missing) == 0 && !now.Before(e.nextPoll)
	enrollDue := e.enrollingLocked() && !now.Before(e.nextEnroll)
	resumeDue := e.resumingLocked() && !now.Before(e.nextResume)
	e.mu.Unlock()
	if !checkinDue && !pollDue && !enrollDue && !resumeDue {
		return
	}
	if !e.acquire(ctx) {
		return
	}
	defer e.release()
	if enrollDue {
		e.enrollOp(ctx)
	}
	if resumeDue {
		e.resumeOp(ctx)
	}
	if pollDue {
		e.pollLocked(ctx)
	}
	if checkinDue {
		_ = e.checkinOp(ctx)
	}
}

func (e *Engine) acquire(ctx context.Context) bool {
	select {
	case e.op <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (e *Engine) release() { <-e.op }

// checkinOp checks in with the server. The caller holds the op semaphore.
func (e *Engine) checkinOp(ctx context.Context) error {
	e.mu.Lock()
	if !e.canCheckinLocked() {
		e.mu.Unlock()
		return &agentapi.Error{Code: agentapi.ErrConflict, Message: "this computer is not activated"}
	}
	cred, deviceID, prev := e.st.Credential, e.st.DeviceID, e.claims
	req := protocol.CheckinRequest{Fingerprint: e.fp, Device: e.facts}
	if e.profiles != nil {
		sum := e.profiles.Summary(e.maxProfilesLocked())
		req.Profiles = &sum
	}
	req.CommandResults = e.pendingResultsLocked()
	e.mu.Unlock()

	var resp protocol.CheckinResponse
	err := e.call(ctx, http.MethodPost, protocol.PathCheckin, cred, req, &resp)
	if err == nil {
		err = e.acceptCheckin(resp, deviceID, prev, req.CommandResults)
	}
	if err == nil && len(resp.Commands) > 0 {
		// Only a verified answer's commands run (acceptCheckin checked
		// the lease it carries).
		e.runCommands(ctx, resp.Commands)
	}
	if err != nil && ctx.Err() != nil {
		return e.apiError(ctx.Err())
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.recomputeLocked()
	if e.st.Credential != cred {
		return nil // the activation changed meanwhile
	}
	now := e.now()
	var ue *upstreamError
	var ne *networkError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ue) && (ue.body.Code == protocol.ErrDeviceRevoked || ue.body.Code == protocol.ErrLicenseRevoked ||
		ue.status == http.StatusGone || ue.body.Code == protocol.ErrInvalidCredentials || ue.status == http.StatusUnauthorized):
		// A license its organization withdrew ends the activation as a
		// deactivation does, under its own reason.
		code, reason := agentapi.ReasonDeactivatedRemote, "this computer was deactivated remotely"
		if ue.body.Code == protocol.ErrLicenseRevoked {
			code, reason = agentapi.ReasonLicenseRevoked, "the organization withdrew this computer's license"
		}
		if ue.body.Message != "" {
			reason += " (" + ue.body.Message + ")"
		}
		e.log.Warn("device deactivated by the server", "code", ue.body.Code)
		e.st.ClearActivation()
		e.st.ReasonCode, e.st.Reason = code, ue.body.Message
		e.lastErr, e.failures = problem{}, 0
		_ = e.saveLocked()
		ev := agentapi.Event{Type: agentapi.EventDeactivated, Time: now, Code: code, Message: reason}
		if ue.body.Message != "" {
			ev.Args = map[string]string{"detail": ue.body.Message}
		}
		e.publish(ev)
		return e.apiError(err)
	case errors.As(err, &ue) && ue.body.Code == protocol.ErrDeviceSuspended:
		e.st.Suspended, e.st.Reason, e.st.ReasonCode = true, "", agentapi.ReasonDeviceSuspended
		e.st.OfflineSince = nil
		e.lastErr, e.failures = failure(agentapi.ProblemCheckinFailed, e.apiError(err), ue.message()), 0
		e.nextCheckin = now.Add(e.checkinDelayLocked(now))
		_ = e.saveLocked()
		return e.apiError(err)
	case errors.As(err, &ue) && ue.body.Code == protocol.ErrLicenseSuspended:
		e.st.Suspended, e.st.Reason, e.st.ReasonCode = true, ue.body.Message, agentapi.ReasonSuspended
		e.st.OfflineSince = nil
		e.lastErr, e.failures = failure(agentapi.ProblemCheckinFailed, e.apiError(err), ue.message()), 0
		e.nextCheckin = now.Add(e.checkinDelayLocked(now))
		_ = e.saveLocked()
		return e.apiError(err)
	case errors.As(err, &ne) || (errors.As(err, &ue) && ue.transient()):
		if e.st.OfflineSince == nil {
			e.st.OfflineSince = timePtr(now.UTC())
			_ = e.saveLocked()
		}
		e.failures++
		e.lastErr = failure(agentapi.ProblemCheckinFailed, e.apiError(err), e.apiError(err).Message)
		e.nextCheckin = now.Add(backoff(e.failures, e.jitter()))
		e.log.Warn("check-in failed", "err", err, "failures", e.failures, "retry_at", e.nextCheckin)
		return e.apiError(err)
	default:
		e.failures++
		e.lastErr = failure(agentapi.ProblemCheckinFailed, e.apiError(err), e.apiError(err).Message)
		e.nextCheckin = now.Add(backoff(e.failures, e.jitter()))
		e.log.Warn("check-in refused", "err", err, "retry_at", e.nextCheckin)
		return e.apiError(err)
	}
}

// acceptCheckin stores a verified fresh lease.
func (e *Engine) acceptCheckin(resp protocol.CheckinResponse, deviceID string, prev *lease.Claims, reported []protocol.CommandResult) error {
	c, err := e.verifyLease(resp.Lease, deviceID, prev)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.st.Lease = resp.Lease
	e.claims, e.leaseErr = c, nil
	e.st.OfflineSince = nil
	e.st.LastCheckin = timePtr(now.UTC())
	e.st.Suspended, e.st.Reason, e.st.ReasonCode = false, "", ""
	e.st.CheckinAfter = max(min(resp.CheckinAfter, int(MaxCheckin/time.Second)), 0)
	e.st.Account, e.st.Organization = c.Account, c.Organization
	// A successful check-in re-bases the trusted-time mark on the server's
	// signed time, which clears a rollback flagged against a bogus mark, and
	// refills the set-back budget.
	e.rebaseClockLocked(now, c.IssuedTime())
	e.st.LeaseIssuedMax = max(e.st.LeaseIssuedMax, c.IssuedAt)
	e.failures, e.lastErr = 0, problem{}
	e.nextCheckin = now.Add(e.checkinDelayLocked(now))
	e.resultsReportedLocked(reported)
	_ = e.saveLocked()
	return nil
}
