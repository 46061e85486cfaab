package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/push"
)

// DefaultStreamKeepalive is how often an idle stream carries a comment.
const DefaultStreamKeepalive = 25 * time.Second

// deviceStream is GET /v1/device/stream: one computer's push stream. It
// carries only "check in now" nudges (server-sent events), never data: the
// agent pulls its commands over the authenticated check-in. With ?wait=1 it
// is a long poll instead, for networks whose proxies buffer streams.
//
// Resuming (Last-Event-ID) needs no replay: what a nudge announces is kept
// in the database, so a stream that starts while the device has open
// commands nudges at once.
func (s *Server) deviceStream(w http.ResponseWriter, r *http.Request) {
	cred, ok := bearer(r)
	if !ok {
		writeError(w, apiError(protocol.ErrInvalidCredentials, "missing or malformed device credential"))
		return
	}
	deviceID, open, err := s.d.Devices.StreamDevice(r.Context(), cred)
	if err != nil {
		s.failure(w, r, "stream", err)
		return
	}
	sub, err := s.d.Streams.Subscribe(deviceID)
	switch {
	case errors.Is(err, push.ErrTooMany):
		w.Header().Set("Retry-After", "60")
		writeError(w, apiError(protocol.ErrRateLimited, "this computer already holds the most streams allowed"))
		return
	case err != nil: // the server is stopping
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, apiError(protocol.ErrInternal, "the server is stopping"))
		return
	}
	defer sub.Close()
	if r.URL.Query().Get("wait") != "" {
		s.longPoll(w, r, sub, open > 0)
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{}) // the server's read timeout is for requests, not for a stream
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer
	w.WriteHeader(http.StatusOK)
	seq := 0
	send := func(event string) bool {
		// The server's write timeout would cut a long stream: each write
		// gets its own deadline instead.
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.StreamKeepalive + 10*time.Second))
		var err error
		if event == "" {
			_, err = fmt.Fprint(w, ": keepalive\n\n")
		} else {
			seq++
			_, err = fmt.Fprintf(w, "id: %d\nevent: %s\ndata: {}\n\n", seq, event)
		}
		return err == nil && rc.Flush() == nil
	}
	_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.StreamKeepalive + 10*time.Second))
	if _, err := fmt.Fprintf(w, "retry: %d\n", 5000); err != nil {
		return
	}
	if !send(protocol.StreamEventReady) {
		return
	}
	if open > 0 && !send(protocol.StreamEventCheckin) {
		return
	}
	keep := time.NewTicker(s.cfg.StreamKeepalive)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case _, ok := <-sub.C:
			if !ok || !send(protocol.StreamEventCheckin) {
				return
			}
		case <-keep.C:
			if !send("") {
				return
			}
		}
	}
}

// longPoll holds the request until a nudge or the wait ends.
func (s *Server) longPoll(w http.ResponseWriter, r *http.Request, sub *push.Sub, now bool) {
	wait := protocol.MaxLongPollWait * time.Second
	if v, err := strconv.Atoi(r.URL.Query().Get("wait")); err == nil && v > 1 && v < protocol.MaxLongPollWait {
		wait = time.Duration(v) * time.Second
	}
	w.Header().Set("Cache-Control", "no-store")
	if now {
		writeJSON(w, http.StatusOK, protocol.LongPollResponse{Checkin: true})
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case _, ok := <-sub.C:
		writeJSON(w, http.StatusOK, protocol.LongPollResponse{Checkin: ok})
	case <-t.C:
		writeJSON(w, http.StatusOK, protocol.LongPollResponse{Checkin: false})
	}
}
