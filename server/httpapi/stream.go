package httpapi

import (
	"bytes"
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
	if r.URL.Query().Get("wait") != "" {
		defer sub.Close()
		s.longPoll(w, r, sub, open > 0)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer
	out, done, hijacked := s.streamWriter(w)
	if !hijacked {
		s.pump(r.Context().Done(), sub, out, done, open > 0)
		return
	}
	// The connection is ours: the handler returns (and net/http lets its
	// goroutine go) and a small goroutine holds the stream. Its owner is
	// the hub: closing the hub (the server stops) closes sub.C, which ends
	// it; a peer gone away ends it at the next write.
	go s.pump(nil, sub, out, done, open > 0)
}

// pump writes a stream until the subscription closes, a write fails or
// stop (the request's end, when not hijacked) fires; then it releases both.
func (s *Server) pump(stop <-chan struct{}, sub *push.Sub, out func([]byte) error, done func(), nudge bool) {
	defer done()
	defer sub.Close()
	seq := 0
	send := func(event string) bool {
		var b []byte
		if event == "" {
			b = []byte(": keepalive\n\n")
		} else {
			seq++
			b = fmt.Appendf(nil, "id: %d\nevent: %s\ndata: {}\n\n", seq, event)
		}
		return out(b) == nil
	}
	if out([]byte("retry: 5000\n")) != nil || !send(protocol.StreamEventReady) {
		return
	}
	if nudge && !send(protocol.StreamEventCheckin) {
		return
	}
	keep := time.NewTicker(s.cfg.StreamKeepalive)
	defer keep.Stop()
	for {
		select {
		case <-stop:
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

// streamWriter starts the 200 answer of a stream and returns how to write
// to it. Over HTTP/1.1 it takes the connection over (Hijack): net/http's
// per-connection buffers and its background reader go, which is most of a
// stream's memory (10,000 are held at once); a peer that went away is seen
// at the next write (keepalives every 25 s). Where hijacking is not possible
// (HTTP/2) it writes through the ResponseWriter. Each write has its own
// deadline: the server's write timeout would cut a long stream.
func (s *Server) streamWriter(w http.ResponseWriter) (write func([]byte) error, done func(), hijacked bool) {
	deadline := func() time.Time { return time.Now().Add(s.cfg.StreamKeepalive + 10*time.Second) }
	rc := http.NewResponseController(w)
	conn, brw, err := rc.Hijack()
	if err != nil {
		_ = rc.SetReadDeadline(time.Time{})
		w.WriteHeader(http.StatusOK)
		return func(b []byte) error {
			_ = rc.SetWriteDeadline(deadline())
			if _, err := w.Write(b); err != nil {
				return err
			}
			return rc.Flush()
		}, func() {}, false
	}
	brw.Reader.Reset(nil) // let the buffers go; nothing more is read
	brw.Writer.Reset(nil)
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	_ = w.Header().Write(&head)
	head.WriteString("Connection: close\r\n\r\n")
	first := head.Bytes()
	return func(b []byte) error {
			_ = conn.SetWriteDeadline(deadline())
			if first != nil {
				b = append(first, b...)
				first = nil
			}
			_, err := conn.Write(b)
			return err
		}, func() {
			_ = conn.Close()
		}, true
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
