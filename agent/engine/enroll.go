package engine

// Unattended activation ("enrollment"): with an enrollment token configured
// (a license key, or a workspace's enrollment token "ent_...",
// Config.EnrollmentToken), an agent whose state folder has
// never held an activation activates by itself from Run.
//
// "Never held an activation" is decided once, in New: the state file
// (state.FileName in the state folder) does not exist. Every activation
// writes that file and nothing in the agent deletes it: deactivation (by a
// person, or by the server) rewrites it without the activation, a foreign,
// tampered or corrupt copy keeps it, and so does a browser sign-in. So a
// computer a person deactivated, e.g. to move the license to a new computer,
// is never re-activated by the token. Deleting state.json by hand (or purging
// the package) re-arms enrollment. While no state file exists and nothing
// happened, the engine does not write one (see refresh), so an agent that ran
// for a while before the token was configured still enrolls.
//
// Failures that may pass (server unreachable, HTTP 5xx or 429, an invalid
// answer) are retried with the check-in backoff. A definitive refusal
// (unknown license, no seats, suspended or expired license, a malformed token)
// stops enrollment until the agent restarts; Status.LastError says why. The
// token is never logged nor put in an error message.

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"strings"

	"github.com/entitle/entitle/agent/state"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/protocol"
)

// enrollPrefix starts every enrollment message in Status.LastError.
const enrollPrefix = "automatic activation with the enrollment token"

// enrollKey normalizes the configured token into the license key sent to
// the server. Its error never contains the token.
func enrollKey(token string) (string, error) {
	token = strings.TrimSpace(token)
	if strings.HasPrefix(token, protocol.EnrollmentTokenPrefix) {
		// A workspace's enrollment token, used as it is.
		if !protocol.ValidEnrollmentToken(token) {
			return "", errors.New(enrollPrefix + " is off: the workspace enrollment token is malformed (cut short?); fix it and restart the agent")
		}
		return token, nil
	}
	if token == "" || len(token) > maxLicenseKey {
		return "", errors.New(enrollPrefix + " is off: the token must be a license key of 1 to 256 characters")
	}
	norm, err := licensekey.Normalize(token)
	if err != nil {
		return "", errors.New(enrollPrefix + " is off: the token is not a valid license key (mistyped?); fix it and restart the agent")
	}
	return licensekey.Format(norm), nil
}

// enrollingLocked reports whether enrollment is still wanted: a token, no
// refusal, and a state folder that has held nothing since the agent started.
func (e *Engine) enrollingLocked() bool {
	return e.enrollKey != "" && len(e.missing) == 0 && !e.enrollStopped && e.untouched && e.loadErr == nil &&
		!e.st.Activated() && e.st.Pending == nil
}

// enrollOp activates with the enrollment token once. The caller holds the op
// semaphore, so no person's activation, sign-in or deactivation interleaves.
func (e *Engine) enrollOp(ctx context.Context) {
	e.mu.Lock()
	if !e.enrollingLocked() {
		e.mu.Unlock()
		return
	}
	// The attempt is recorded (with its nonce, not the token, which stays in
	// the configuration) before the request leaves; a folder holding only
	// that record still counts as untouched, so a kill after the server's
	// commit is finished by the next start's enrollment, with the same nonce.
	act := e.st.Activating
	if act == nil || act.Method != state.ActivatingEnrollment {
		act = &state.Activating{Method: state.ActivatingEnrollment, Nonce: rand.Text(), StartedAt: e.now().Round(0).UTC()}
		e.st.Activating = act
		err := e.saveLocked()
		e.untouched = true
		if err != nil {
			e.st.Activating = nil
			e.enrollStopped = true
			e.lastErr = problem{code: agentapi.ProblemEnrollmentUnwritable, msg: enrollPrefix + " is off: the state folder cannot be written: " + err.Error()}
			e.recomputeLocked()
			e.mu.Unlock()
			return
		}
	}
	nonce := act.Nonce
	e.mu.Unlock()

	preq := protocol.ActivateRequest{Fingerprint: e.fp, Product: e.cfg.ProductID, Device: e.facts,
		Method: protocol.MethodLicenseKey, LicenseKey: e.enrollKey, Nonce: nonce}
	if strings.HasPrefix(e.enrollKey, protocol.EnrollmentTokenPrefix) {
		preq.Method, preq.LicenseKey, preq.EnrollmentToken = protocol.MethodEnrollment, "", e.enrollKey
	}
	var resp protocol.ActivateResponse
	err := e.call(ctx, http.MethodPost, protocol.PathActivations, "", preq, &resp)
	if err == nil {
		err = e.acceptActivation(resp, nonce)
	}
	if err != nil && ctx.Err() != nil {
		return // shutting down: the next start tries again
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err == nil || e.st.Activated() { // activated (even if saving failed: acceptActivation reported it)
		e.enrollStopped = true
		if err == nil {
			e.log.Info("activated", "method", "enrollment_token")
		}
		return
	}
	now := e.now()
	var ue *upstreamError
	var ne *networkError
	ae := e.apiError(err)
	msg := licensekey.Mask(ae.Message)
	if errors.As(err, &ne) || (errors.As(err, &ue) && ue.transient()) {
		e.enrollFailures++
		e.nextEnroll = now.Add(backoff(e.enrollFailures, e.jitter()))
		e.lastErr = failure(agentapi.ProblemEnrollmentRetrying, ae, enrollPrefix+" failed (will retry): "+msg)
		e.log.Warn("enrollment failed", "err", e.masked(err), "failures", e.enrollFailures, "retry_at", e.nextEnroll)
	} else {
		e.enrollStopped = true
		e.lastErr = failure(agentapi.ProblemEnrollmentRefused, ae, enrollPrefix+" was refused: "+msg+"; activate this computer by hand, or fix the token and restart the agent")
		e.log.Error("enrollment refused; not retrying", "err", e.masked(err))
	}
	e.recomputeLocked()
}
