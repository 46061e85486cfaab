// Package localapi serves the agent's local REST API (docs/openapi/agent.yaml)
// on a loopback address: the entitlement answer for signing apps, and status,
// activation, check-in and live events for the tray and the command line.
//
// Every request passes, in this order: panic recovery, security headers, the
// Host check (DNS rebinding), the browser check (Origin, Referer, Sec-Fetch-*),
// the content-type check for mutating methods, then echo's router; token
// endpoints also need the API token, with failures rate-limited per address.
// The one hot route, GET /v1/entitlement, is answered under the same checks
// without going through echo's router (serveHot), and its plain keep-alive
// requests are answered before net/http reads them, from bytes prepared once
// per answer (fast.go).
package localapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
)

// Engine is what the local API needs from the agent's engine (agent/engine
// implements it). Errors should be *agentapi.Error; others become 500.
//
// Entitlement must be cheap (served from memory) and the value it returns must
// never be modified afterwards: a state change yields a new pointer, which is
// how the API knows when to re-serialize its cached answer.
type Engine interface {
	Entitlement(feature string) *agentapi.Entitlement
	Status() agentapi.Status
	Activate(ctx context.Context, req agentapi.ActivateRequest) (agentapi.ActivateResponse, error)
	Deactivate(ctx context.Context) error
	CheckNow(ctx context.Context) error
	Subscribe(ctx context.Context) <-chan agentapi.Event
}

// Options configure a Server. Engine and Token are required; zero durations
// and limits take the defaults below.
type Options struct {
	Engine Engine
	// Token is the API token (from the token file in the state folder).
	Token  string
	Logger *slog.Logger
	// Extra registers more routes on the token-protected /v1 group, e.g.
	// g.GET("/profiles", h) for agentapi.PathProfiles.
	Extra func(g *echo.Group)
	// BodyLimits raises the request body cap (agentapi.MaxBodyBytes) for
	// exact paths whose handlers bound their bodies themselves, such as
	// profile and migration-bundle imports.
	BodyLimits map[string]int64
	// Heartbeat is the interval of SSE comment lines (default 25 s).
	Heartbeat time.Duration
	// MaxStreams bounds concurrent event streams (default 32).
	MaxStreams int
	// FailureRate and FailureBurst limit failed token checks per remote
	// address (default 1 per second, burst 10).
	FailureRate  rate.Limit
	FailureBurst int
	// Server timeouts (defaults: 5 s, 15 s, 60 s, 120 s) and shutdown grace (5 s).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout, ShutdownTimeout time.Duration
	Now                                                                        func() time.Time
	// Catalog renders reasons for Accept-Language (nil: i18n.New()).
	Catalog *i18n.Bundle
}

// Defaults.
const (
	DefaultHeartbeat       = 25 * time.Second
	DefaultMaxStreams      = 32
	DefaultFailureBurst    = 10
	DefaultFailureRate     = rate.Limit(1)
	DefaultMaxHeaderBytes  = 16 << 10
	MinTokenLength         = 32
	defaultShutdownTimeout = 5 * time.Second
)

// Server is the local API. Create it with New and run it with Serve.
type Server struct {
	opts    Options
	log     *slog.Logger
	engine  Engine
	echo    *echo.Echo
	handler http.Handler
	auth    *authenticator
	ent     entitlementCache
	lang    *languages
	streams chan struct{} // semaphore of event streams
	stop    chan struct{} // closed when shutdown starts: ends event streams
	stopped sync.Once
	serving atomic.Bool
	hosts   atomic.Pointer[[2]string] // allowed Host header values
	date    dateCache                 // the fast path's Date
	// fastServed counts the answers the fast path wrote, counted just before
	// each write (tests read it).
	fastServed atomic.Uint64
}

// New builds a server. It does not listen: see Listen and Serve.
func New(o Options) (*Server, error) {
	if o.Engine == nil {
		return nil, errors.New("localapi: no engine")
	}
	if len(o.Token) < MinTokenLength {
		return nil, fmt.Errorf("localapi: API token must have at least %d characters", MinTokenLength)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	setDefault(&o.Heartbeat, DefaultHeartbeat)
	setDefault(&o.ReadHeaderTimeout, 5*time.Second)
	setDefault(&o.ReadTimeout, 15*time.Second)
	setDefault(&o.WriteTimeout, 60*time.Second)
	setDefault(&o.IdleTimeout, 120*time.Second)
	setDefault(&o.ShutdownTimeout, defaultShutdownTimeout)
	if o.MaxStreams <= 0 {
		o.MaxStreams = DefaultMaxStreams
	}
	if o.FailureRate <= 0 {
		o.FailureRate = DefaultFailureRate
	}
	if o.FailureBurst <= 0 {
		o.FailureBurst = DefaultFailureBurst
	}
	s := &Server{
		opts:    o,
		log:     o.Logger,
		engine:  o.Engine,
		lang:    newLanguages(o.Catalog),
		auth:    newAuthenticator(o.Token, o.FailureRate, o.FailureBurst, o.Now),
		streams: make(chan struct{}, o.MaxStreams),
		stop:    make(chan struct{}),
	}
	s.echo = s.routes()
	s.handler = s.guard(http.HandlerFunc(s.serveHot))
	return s, nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	// Public routes answer HEAD as GET does (RFC 9110 section 9.3.2): net/http
	// drops the body of a HEAD response.
	for path, h := range map[string]echo.HandlerFunc{
		agentapi.PathEntitlement: s.getEntitlement,
		agentapi.PathHealth:      s.getHealth,
		agentapi.PathOpenAPI:     getOpenAPI,
	} {
		e.GET(path, h)
		e.HEAD(path, h)
	}
	g := e.Group("/v1", s.requireToken, s.obeyMode)
	g.GET("/status", s.getStatus)
	g.HEAD("/status", s.getStatus)
	g.POST("/activation", s.postActivation)
	g.DELETE("/activation", s.deleteActivation)
	g.POST("/check", s.postCheck)
	g.GET("/events", s.getEvents)
	if s.opts.Extra != nil {
		s.opts.Extra(g)
	}
	// The group's middleware registered catch-all routes under /v1 that run
	// the token check first, so an unknown path answered 401 and a wrong
	// method 401 too. Replace them with plain ones (notFound): an unknown path
	// is 404 with or without a token, a known path with a wrong method 405.
	e.RouteNotFound("/v1", s.notFound)
	e.RouteNotFound("/v1/*", s.notFound)
	e.RouteNotFound("/*", s.notFound)
	return e
}

// methods a route may be registered with, for the Allow header of a 405.
var routeMethods = [...]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// notFound answers a request no route took: 405 with Allow when the path
// exists with other methods (echo's own 405 never shows, because a catch-all
// route matches first), else 404.
func (s *Server) notFound(c echo.Context) error {
	path := c.Request().URL.Path
	var allow []string
	for _, m := range routeMethods {
		fc := s.echo.NewContext(nil, nil)
		s.echo.Router().Find(m, path, fc)
		if p := fc.Path(); p != "" && p != "/v1" && p != "/v1/*" && p != "/*" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
		return &agentapi.Error{Code: agentapi.ErrMethodNotAllowed, Message: c.Request().Method + " is not allowed here; allowed: " + strings.Join(allow, ", ")}
	}
	return &agentapi.Error{Code: agentapi.ErrNotFound, Message: "no such endpoint"}
}

// Handler returns the complete HTTP handler (guards included). The Host check
// accepts loopback names with the port of the listener given to Serve; before
// Serve it accepts no Host at all.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers requests on ln until ctx ends, then shuts down gracefully:
// event streams end, in-flight requests get ShutdownTimeout to finish. It
// refuses a listener that is not on a loopback address. It returns nil after a
// shutdown caused by ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.IsLoopback() {
		return fmt.Errorf("localapi: refusing to serve on %s: not a loopback TCP address", ln.Addr())
	}
	if !s.serving.CompareAndSwap(false, true) {
		return errors.New("localapi: Serve called twice")
	}
	s.hosts.Store(allowedHosts(addr))
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	srv.RegisterOnShutdown(s.endStreams)
	// The fast path reads each connection first; net/http serves the ones
	// it hands over (fast.go).
	hand := newHandoffListener(ln.Addr())
	fast := newFastConns(s, hand)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(hand) }()
	acceptc := make(chan error, 1)
	go func() { acceptc <- fast.accept(ln) }()
	var acceptErr, serveErr error
	accepted, served := false, false // whose result was taken
	select {
	case acceptErr = <-acceptc:
		accepted = true
	case serveErr = <-errc:
		served = true
	case <-ctx.Done():
	}
	s.endStreams()
	fast.closeIdle()
	_ = ln.Close()
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.Warn("local API shutdown timed out; closing connections", "err", err)
		_ = srv.Close()
	}
	select {
	case <-fast.ended():
	case <-sctx.Done():
		fast.closeAll()
		<-fast.ended()
	}
	if !accepted {
		acceptErr = <-acceptc
	}
	if !served {
		serveErr = <-errc
	}
	switch {
	case acceptErr != nil:
		return fmt.Errorf("localapi: accept: %w", acceptErr)
	case serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed):
		return fmt.Errorf("localapi: serve: %w", serveErr)
	}
	return nil
}

func (s *Server) endStreams() { s.stopped.Do(func() { close(s.stop) }) }

// allowedHosts are the Host values a request to the listener at addr can
// carry: the address itself (127.0.0.1:PORT, or [::1]:PORT when the agent is
// configured to bind ::1) and localhost:PORT. An IP literal of another address
// than the bound one is refused: no client reaching this listener names it.
func allowedHosts(addr *net.TCPAddr) *[2]string {
	p := strconv.Itoa(addr.Port)
	return &[2]string{net.JoinHostPort(addr.IP.String(), p), "localhost:" + p}
}

func (s *Server) getHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
