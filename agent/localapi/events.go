package localapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/entitle/entitle/pkg/agentapi"
)

// eventWriteTimeout bounds one event write to a slow reader.
const eventWriteTimeout = 10 * time.Second

// getEvents streams agentapi.Event values as server-sent events: a "status"
// event first, then each engine event, with a comment line every Heartbeat.
// It ends when the client goes away, the engine closes the subscription, or
// the server shuts down.
func (s *Server) getEvents(c echo.Context) error {
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		return &agentapi.Error{Code: agentapi.ErrRateLimited, Message: "too many event streams open"}
	}
	w := c.Response()
	rc := http.NewResponseController(w)
	// The stream outlives the server's read and write timeouts: lift them
	// here and bound each write instead.
	if err := rc.SetReadDeadline(time.Time{}); err != nil {
		return fmt.Errorf("events: %w", err)
	}
	ctx := c.Request().Context()
	sub := s.engine.Subscribe(ctx)
	h := w.Header()
	h["Content-Type"] = []string{"text/event-stream"}
	h["X-Accel-Buffering"] = []string{"no"}
	w.WriteHeader(http.StatusOK)

	li := s.lang.index(c.Request())
	for _, ev := range s.firstEvents(sub) {
		if err := s.writeEvent(rc, w, ev, li); err != nil {
			return nil // the client is gone
		}
	}
	tick := time.NewTicker(s.opts.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.stop:
			return nil
		case ev, ok := <-sub:
			if !ok {
				return nil
			}
			if err := s.writeEvent(rc, w, ev, li); err != nil {
				return nil
			}
		case <-tick.C:
			if err := writeFlush(rc, w, []byte(": heartbeat\n\n")); err != nil {
				return nil
			}
		}
	}
}

// firstEvents opens the stream with exactly one status event: the
// subscription's own when the engine queued one already (agent/engine does),
// otherwise one built from Status, followed by any other event taken.
func (s *Server) firstEvents(sub <-chan agentapi.Event) []agentapi.Event {
	st := s.engine.Status()
	status := agentapi.Event{Type: agentapi.EventStatus, Time: s.opts.Now(), Status: &st}
	select {
	case ev, ok := <-sub:
		switch {
		case !ok:
		case ev.Type == agentapi.EventStatus && ev.Status != nil:
			return []agentapi.Event{ev}
		default:
			return []agentapi.Event{status, ev}
		}
	default:
	}
	return []agentapi.Event{status}
}

func (s *Server) writeEvent(rc *http.ResponseController, w http.ResponseWriter, ev agentapi.Event, lang int) error {
	if ev.Status != nil && lang != 0 {
		st := *ev.Status // shared with other subscribers: localize a copy
		s.lang.localize(&st.Entitlement, lang)
		ev.Status = &st
	}
	b, err := encodeEvent(ev)
	if err != nil {
		s.log.Error("encode event", "type", ev.Type, "err", err)
		return nil
	}
	return writeFlush(rc, w, b)
}

// encodeEvent renders one SSE frame. json.Marshal output has no raw newlines,
// and the event name is reduced to a safe token.
func encodeEvent(ev agentapi.Event) ([]byte, error) {
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	name := sseName(ev.Type)
	var buf bytes.Buffer
	buf.Grow(len(data) + len(name) + 16)
	buf.WriteString("event: ")
	buf.WriteString(name)
	buf.WriteString("\ndata: ")
	buf.Write(data)
	buf.WriteString("\n\n")
	return buf.Bytes(), nil
}

func sseName(t string) string {
	if t == "" || len(t) > 64 || strings.IndexFunc(t, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
	}) >= 0 {
		return "message"
	}
	return t
}

func writeFlush(rc *http.ResponseController, w http.ResponseWriter, b []byte) error {
	_ = rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
	if _, err := w.Write(b); err != nil {
		return err
	}
	return rc.Flush()
}
