package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/sse"
)

// The push stream (docs/architecture.md, "Remote commands"): the agent holds
// one stream to the licensing server, which only ever says "check in now";
// the check-in then pulls the commands. Where a proxy buffers the stream
// (the ready event does not arrive) the agent long-polls instead, and where
// that fails too it relies on its scheduled check-ins, trying the stream
// again now and then. Status.Delivery says which it uses.
const (
	streamReadyTimeout = 10 * time.Second // the ready event must arrive within this
	streamIdleTimeout  = 90 * time.Second // no byte (keepalives every 25 s) for this long: reconnect
	streamBackoffMax   = time.Minute
	streamRetryPlain   = 10 * time.Minute // from plain check-ins, try the stream again after this
	longPollWait       = protocol.MaxLongPollWait
	fallbackAfter      = 2 // failed attempts of one kind before the next fallback
)

// errBuffered means the stream opened but its first event never arrived.
var errBuffered = errors.New("the push stream is buffered by a proxy")

// errStreamRefused means the server refused the credential: a check-in will
// tell the engine why (deactivated, unknown).
var errStreamRefused = errors.New("the server refused the push stream")

// runStream keeps the push stream up while the computer is activated, until
// ctx ends. Run owns it.
func (e *Engine) runStream(ctx context.Context) {
	mode, failures := agentapi.DeliveryStream, 0
	var plainSince time.Time
	for ctx.Err() == nil {
		e.mu.Lock()
		cred := ""
		if e.canCheckinLocked() && len(e.missing) == 0 {
			cred = e.st.Credential
		}
		e.mu.Unlock()
		if cred == "" {
			e.setDelivery("")
			if !sleepCtx(ctx, 5*time.Second) {
				return
			}
			continue
		}
		if mode == agentapi.DeliveryCheckin && e.now().Sub(plainSince) >= streamRetryPlain {
			mode, failures = agentapi.DeliveryStream, 0
		}
		var err error
		started := time.Now()
		switch mode {
		case agentapi.DeliveryStream:
			err = e.followStream(ctx, cred)
		case agentapi.DeliveryLongPoll:
			err = e.longPoll(ctx, cred)
		default:
			e.setDelivery(agentapi.DeliveryCheckin)
			if !sleepCtx(ctx, time.Minute) {
				return
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errStreamRefused) {
			e.nudge() // the check-in learns why and clears the activation
			if !sleepCtx(ctx, 30*time.Second) {
				return
			}
			continue
		}
		if err == nil || time.Since(started) > 2*time.Minute {
			failures = 0 // it worked for a while: reconnect the same way
		} else {
			failures++
			e.log.Debug("push delivery failed", "mode", mode, "err", err, "failures", failures)
		}
		if failures >= fallbackAfter {
			switch mode {
			case agentapi.DeliveryStream:
				mode = agentapi.DeliveryLongPoll
			case agentapi.DeliveryLongPoll:
				mode, plainSince = agentapi.DeliveryCheckin, e.now()
			}
			e.log.Info("push delivery falls back", "mode", mode, "err", err)
			failures = 0
		}
		if err != nil {
			wait := min(time.Second<<min(failures, 6), streamBackoffMax)
			if !sleepCtx(ctx, wait/2+time.Duration(e.jitter()*float64(wait/2))) {
				return
			}
		}
	}
}

func (e *Engine) setDelivery(mode string) {
	e.mu.Lock()
	changed := e.delivery != mode
	e.delivery = mode
	if changed {
		e.recomputeLocked()
	}
	e.mu.Unlock()
}

// nudge asks for a check-in now (the stream said so).
func (e *Engine) nudge() {
	e.mu.Lock()
	e.nextCheckin = e.now()
	e.mu.Unlock()
	e.poke()
}

// streamClient is the engine's client without its overall timeout, which
// would cut a long-lived stream; idle and ready timeouts bound it instead.
func (e *Engine) streamClient() *http.Client {
	return &http.Client{Transport: e.client.Transport, CheckRedirect: e.client.CheckRedirect, Jar: e.client.Jar}
}

func (e *Engine) streamRequest(ctx context.Context, cred, query string) (*http.Response, error) {
	url := strings.TrimRight(e.cfg.ServerURL, "/") + protocol.PathDeviceStream + query
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+cred)
	req.Header.Set("Accept", "text/event-stream, application/json")
	req.Header.Set("User-Agent", "entitle-agent/"+e.version)
	resp, err := e.streamClient().Do(req)
	if err != nil {
		return nil, &networkError{err}
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusGone:
		resp.Body.Close()
		return nil, errStreamRefused
	case resp.StatusCode != http.StatusOK:
		resp.Body.Close()
		return nil, fmt.Errorf("push stream: HTTP %d", resp.StatusCode)
	}
	return resp, nil
}

// followStream reads one stream until it ends.
func (e *Engine) followStream(ctx context.Context, cred string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A watchdog cancels the request when nothing arrives in time: the
	// ready event first (a proxy that buffers the answer holds even its
	// headers), then anything (keepalives) every idle timeout.
	alive := make(chan struct{}, 1)
	var ready, buffered atomic.Bool
	watchdog := make(chan struct{})
	defer func() { cancel(); <-watchdog }()
	go func() {
		defer close(watchdog)
		t := time.NewTimer(streamReadyTimeout)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-alive:
				if !ready.Load() {
					continue // bytes, but not the ready event yet
				}
				if !t.Stop() {
					<-t.C
				}
				t.Reset(streamIdleTimeout)
			case <-t.C:
				if !ready.Load() {
					buffered.Store(true)
				}
				cancel()
				return
			}
		}
	}()
	resp, err := e.streamRequest(ctx, cred, "")
	if err != nil {
		if buffered.Load() {
			return errBuffered
		}
		return err
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return fmt.Errorf("push stream: content type %q", ct)
	}
	body := &activityReader{r: resp.Body, alive: alive}
	err = sse.Parse(body, func(ev sse.Event) error {
		switch ev.Name {
		case protocol.StreamEventReady:
			if !ready.Swap(true) {
				e.setDelivery(agentapi.DeliveryStream)
				select {
				case alive <- struct{}{}: // start the idle timer
				default:
				}
			}
		case protocol.StreamEventCheckin:
			e.nudge()
		}
		return nil
	})
	if !ready.Load() {
		if buffered.Load() {
			return errBuffered
		}
		return fmt.Errorf("push stream ended before it was ready: %v", err)
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("push stream ended: %w", err)
}

// activityReader signals every read that returned bytes.
type activityReader struct {
	r     io.Reader
	alive chan struct{}
}

func (a *activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		select {
		case a.alive <- struct{}{}:
		default:
		}
	}
	return n, err
}

// longPoll makes one long poll.
func (e *Engine) longPoll(ctx context.Context, cred string) error {
	ctx, cancel := context.WithTimeout(ctx, (longPollWait+15)*time.Second)
	defer cancel()
	resp, err := e.streamRequest(ctx, cred, fmt.Sprintf("?wait=%d", longPollWait))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out protocol.LongPollResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&out); err != nil {
		return fmt.Errorf("long poll: %w", err)
	}
	e.setDelivery(agentapi.DeliveryLongPoll)
	if out.Checkin {
		e.nudge()
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
