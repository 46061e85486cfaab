package agentclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/sse"
)

// MaxEventLine bounds one line of the event stream; longer lines end the
// stream with an error.
const MaxEventLine = sse.MaxLine

// Events follows the agent's server-sent event stream. Events arrive on the
// first channel; both channels are closed when ctx ends or the stream breaks.
// The error channel (buffered, one value) carries why the stream ended, unless
// ctx was cancelled. The caller stops the reader by cancelling ctx.
func (c *Client) Events(ctx context.Context) (<-chan agentapi.Event, <-chan error) {
	events := make(chan agentapi.Event)
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		defer close(events)
		err := c.readEvents(ctx, events)
		if err != nil && ctx.Err() == nil {
			errc <- err
		}
	}()
	return events, errc
}

func (c *Client) readEvents(ctx context.Context, out chan<- agentapi.Event) error {
	resp, err := c.send(ctx, c.stream, http.MethodGet, agentapi.PathEvents, nil, "text/event-stream")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return fmt.Errorf("agentclient: events: unexpected content type %q", ct)
	}
	err = ParseEvents(resp.Body, func(ev agentapi.Event) error {
		select {
		case out <- ev:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("agentclient: event stream ended: %w", err)
}

// ParseEvents reads a server-sent event stream from r and calls emit for each
// complete event until r ends (returning nil) or fails. The data of an event
// is the agentapi.Event JSON; the SSE event name, when present, overrides Type.
func ParseEvents(r io.Reader, emit func(agentapi.Event) error) error {
	return sse.Parse(r, func(e sse.Event) error {
		if e.Data == "" {
			return nil
		}
		var ev agentapi.Event
		if err := json.Unmarshal([]byte(e.Data), &ev); err != nil {
			return fmt.Errorf("decode event %q: %w", e.Name, err)
		}
		if e.Name != "" {
			ev.Type = e.Name
		}
		return emit(ev)
	})
}
