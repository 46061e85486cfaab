// Package push tells connected computers to check in now. Each agent keeps
// one long-lived stream to a server instance (server-sent events, or a long
// poll where a proxy buffers the stream); the stream carries only the nudge,
// and the agent pulls its commands over the authenticated check-in, so there
// is one path for data.
//
// A nudge queued on one instance reaches a computer connected to another
// through PostgreSQL's own LISTEN/NOTIFY: Notify sends pg_notify, and every
// instance's Run listens and wakes its local streams. On SQLite, which one
// instance serves, the hub delivers in process.
package push

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/entitle/entitle/server/store"
)

// Channel is the PostgreSQL notification channel of nudges; the payload is
// the device id.
const Channel = "entitle_device_nudge"

// MaxStreamsPerDevice bounds the streams one device credential may hold at
// once on an instance, so a stolen credential cannot pile up connections.
const MaxStreamsPerDevice = 4

// Errors of Subscribe.
var (
	ErrClosed      = errors.New("push: hub closed")
	ErrTooMany     = errors.New("push: too many streams for this device")
	errNotListened = errors.New("push: not listening yet")
)

// Hub holds the streams connected to this instance.
type Hub struct {
	db  *store.DB // nil: in process only
	log *slog.Logger

	mu        sync.Mutex
	subs      map[string]map[*Sub]struct{}
	closed    bool
	listening bool // PostgreSQL: a LISTEN is in place, so Notify may rely on it
}

// Sub is one stream's subscription. C receives a value when the device
// should check in; it is closed when the hub closes (the server stops).
type Sub struct {
	C      chan struct{}
	hub    *Hub
	device string
}

// New returns a hub over db (nil or SQLite: in process).
func New(db *store.DB, logger *slog.Logger) *Hub {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if db != nil && db.Dialect() != store.Postgres {
		db = nil
	}
	return &Hub{db: db, log: logger, subs: make(map[string]map[*Sub]struct{})}
}

// Subscribe registers a stream of deviceID.
func (h *Hub) Subscribe(deviceID string) (*Sub, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	set := h.subs[deviceID]
	if len(set) >= MaxStreamsPerDevice {
		return nil, ErrTooMany
	}
	if set == nil {
		set = make(map[*Sub]struct{})
		h.subs[deviceID] = set
	}
	s := &Sub{C: make(chan struct{}, 1), hub: h, device: deviceID}
	set[s] = struct{}{}
	return s, nil
}

// Close ends the subscription.
func (s *Sub) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if set, ok := h.subs[s.device]; ok {
		if _, ok := set[s]; ok {
			delete(set, s)
			close(s.C)
			if len(set) == 0 {
				delete(h.subs, s.device)
			}
		}
	}
}

// Connected returns how many streams this instance holds.
func (h *Hub) Connected() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.subs {
		n += len(set)
	}
	return n
}

// DeviceConnected reports whether deviceID holds a stream to this instance
// (with several instances, another may hold it: false is "not here").
func (h *Hub) DeviceConnected(deviceID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[deviceID]) > 0
}

// Notify nudges deviceID wherever its stream is connected. On PostgreSQL
// it goes through NOTIFY (every instance, this one included, hears it);
// should that fail, or before the first LISTEN is up, this instance's own
// streams are woken directly.
func (h *Hub) Notify(ctx context.Context, deviceID string) {
	if h.db != nil {
		h.mu.Lock()
		listening := h.listening
		h.mu.Unlock()
		err := errNotListened
		if listening {
			err = h.db.Notify(ctx, Channel, deviceID)
		}
		if err == nil {
			return
		}
		if !errors.Is(err, errNotListened) {
			h.log.Warn("nudge through the database failed; waking local streams only", "err", err)
		}
	}
	h.deliver(deviceID)
}

func (h *Hub) deliver(deviceID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[deviceID] {
		select {
		case s.C <- struct{}{}:
		default: // a nudge is already waiting
		}
	}
}

// deliverAll nudges every local stream: after the database listener was
// down, nudges may have been missed.
func (h *Hub) deliverAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range h.subs {
		for s := range set {
			select {
			case s.C <- struct{}{}:
			default:
			}
		}
	}
}

// Run listens for nudges of other instances (PostgreSQL) until ctx ends,
// reconnecting with capped, jittered backoff, then closes the hub so every
// stream ends. `entitle-server serve` owns it.
func (h *Hub) Run(ctx context.Context) {
	defer h.close()
	if h.db == nil {
		<-ctx.Done()
		return
	}
	failures := 0
	for ctx.Err() == nil {
		err := h.db.Listen(ctx, Channel, func() {
			h.mu.Lock()
			h.listening = true
			h.mu.Unlock()
			if failures > 0 {
				h.deliverAll()
			}
			failures = 0
		}, h.deliver)
		h.mu.Lock()
		h.listening = false
		h.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		failures++
		wait := min(time.Second<<min(failures, 5), 30*time.Second)
		wait = wait/2 + time.Duration(rand.Int64N(int64(wait/2)+1))
		h.log.Warn("nudge listener lost its database connection; reconnecting", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (h *Hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for dev, set := range h.subs {
		for s := range set {
			close(s.C)
		}
		delete(h.subs, dev)
	}
}

// Listening reports whether the PostgreSQL listener is in place (always
// true in process), for readiness checks and tests.
func (h *Hub) Listening() bool {
	if h.db == nil {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.listening
}
