package localapi

import (
	"bufio"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// The fast path. A signing app asks GET /v1/entitlement often, over a kept
// connection, and the answer is bytes held in memory: net/http's own work per
// request (parsing every header into a map, cloning and sorting the answer's
// headers, arming deadline timers) costs more than the answer. So Serve owns
// the accept loop and reads each connection first itself:
//
//   - a request it recognizes completely, already whole in its buffer, gets the
//     cached answer written from a precomputed header block;
//   - anything else, from its first byte on, goes to net/http (and echo), which
//     read the connection from there as if they had accepted it: the buffered
//     bytes are replayed, nothing is consumed, and the connection stays with
//     net/http until it closes.
//
// The recognized request is exactly "GET /v1/entitlement HTTP/1.1" with one
// Host that the guard allows, at most one Accept-Language, Connection absent
// or keep-alive, well-formed header names and values, and none of the headers
// that would change the answer or the guard's verdict (see recognize). Every
// such request gets from the guard and serveHot the same answer byte for byte,
// apart from the Date (TestFastPathAnswersAsNetHTTP); anything the recognizer
// is unsure of is net/http's to judge, so net/http stays the authority on what
// a valid request is and on every refusal.
//
// Deadlines: the connection's read deadline is IdleTimeout and its write
// deadline WriteTimeout, pushed forward at most once a second (so an idle
// connection closes between IdleTimeout-1s and IdleTimeout). A request not
// whole in the first read goes to net/http, whose ReadHeaderTimeout then
// applies: a slow sender is never waited on here.

// fastBufSize is the read buffer of a connection: a signing app's request is
// well under it; a longer header block goes to net/http.
const fastBufSize = 4096

// fastRefresh is how long deadlines stay before being pushed forward.
const fastRefresh = time.Second

// fastConns owns the accept loop and the connections not yet handed over.
type fastConns struct {
	s    *Server
	log  *slog.Logger
	hand *handoffListener
	wg   sync.WaitGroup

	mu      sync.Mutex
	closing atomic.Bool // set under mu; read without it on each request
	conns   map[net.Conn]struct{}

	endOnce sync.Once
	end     chan struct{} // see ended
}

func newFastConns(s *Server, hand *handoffListener) *fastConns {
	return &fastConns{s: s, log: s.log, hand: hand, conns: make(map[net.Conn]struct{})}
}

// accept runs until ln fails or is closed; it returns nil when closeIdle has
// started (a shutdown), else the listener's error.
func (f *fastConns) accept(ln net.Listener) error {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if f.closing.Load() {
				return nil
			}
			// As net/http does: back off on a temporary error (out of
			// file descriptors) rather than stop serving.
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() && !errors.Is(err, net.ErrClosed) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				f.log.Warn("local API accept failed; retrying", "err", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		if !f.track(c) {
			_ = c.Close()
			return nil
		}
		go f.serve(c)
	}
}

// track records c, unless a shutdown started.
func (f *fastConns) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing.Load() {
		return false
	}
	f.conns[c] = struct{}{}
	f.wg.Add(1)
	return true
}

func (f *fastConns) forget(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	f.wg.Done()
}

// closeIdle starts the shutdown: no connection is accepted or answered any
// more, and connections waiting for a request are woken to close. One that is
// writing an answer finishes it first.
func (f *fastConns) closeIdle() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closing.Store(true)
	now := time.Now()
	for c := range f.conns {
		_ = c.SetReadDeadline(now)
	}
}

// closeAll closes every connection still here (the shutdown grace is over).
func (f *fastConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		_ = c.Close()
	}
}

// ended is closed once every connection has ended or gone to net/http
// (call it only after closeIdle: no connection is added then).
func (f *fastConns) ended() <-chan struct{} {
	f.endOnce.Do(func() {
		f.end = make(chan struct{})
		go func() { f.wg.Wait(); close(f.end) }()
	})
	return f.end
}

// refresh pushes c's deadlines forward, unless a shutdown started.
func (f *fastConns) refresh(c net.Conn, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing.Load() {
		return false
	}
	_ = c.SetReadDeadline(now.Add(f.s.opts.IdleTimeout))
	_ = c.SetWriteDeadline(now.Add(f.s.opts.WriteTimeout))
	return true
}

// serve answers c's requests until one is not for the fast path (c then goes
// to net/http) or c ends.
func (f *fastConns) serve(c net.Conn) {
	handed := false
	defer func() {
		if v := recover(); v != nil {
			f.log.Error("local API fast path panicked", "panic", v)
		}
		f.forget(c)
		if !handed {
			_ = c.Close()
		}
	}()
	br := bufio.NewReaderSize(c, fastBufSize)
	var out []byte
	var refreshed time.Time
	for {
		now := time.Now()
		if now.Sub(refreshed) >= fastRefresh {
			if !f.refresh(c, now) {
				return
			}
			refreshed = now
		} else if f.closing.Load() {
			return
		}
		if br.Buffered() == 0 {
			if _, err := br.Peek(1); err != nil {
				return
			}
		}
		buf, _ := br.Peek(br.Buffered())
		n, reply, ok := f.s.fastReply(buf, out[:0], now)
		if !ok {
			handed = f.hand.give(&replayConn{Conn: c, r: br})
			return
		}
		out = reply
		_, _ = br.Discard(n)
		// Counted before the write: a client that has read the answer
		// sees it counted (tests compare the two).
		f.s.fastServed.Add(1)
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// fastReply appends to out the answer to the request at the start of buf and
// returns the request's length; false when serveHot must answer it: the
// request is not the fast path's (recognize), the engine is starting, or the
// answer cannot be serialized (serveHot says why).
func (s *Server) fastReply(buf, out []byte, now time.Time) (int, []byte, bool) {
	n, acceptLanguage, ok := recognize(buf, s.hosts.Load())
	if !ok {
		return 0, out, false
	}
	e := s.engine.Entitlement("")
	if e == nil {
		return 0, out, false
	}
	ce, err := s.ent.get(e, s.lang, s.lang.indexOfBytes(acceptLanguage))
	if err != nil {
		return 0, out, false
	}
	out = append(out, ce.head...)
	out = append(out, s.date.get(now)...)
	out = append(out, ce.tail...)
	return n, out, true
}

// handoffListener is the listener net/http serves: its connections are the
// ones the fast path gave up.
type handoffListener struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

// give hands c to net/http; false when the listener is closed (the caller
// keeps c and closes it).
func (l *handoffListener) give(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }

// replayConn is a connection whose first bytes were read into r: reads come
// from r (its buffer, then the connection).
type replayConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// CloseWrite lets net/http half-close the connection as it does a TCP one
// before closing it (so the client reads the whole answer to a refused
// request).
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
