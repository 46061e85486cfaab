// Package httpapi is the licensing server's JSON API (/v1, described in
// docs/openapi/server.yaml) and the assembly of the server's HTTP handler: one
// ServeMux for the API, the metrics endpoint and the web pages, wrapped in the
// middleware of package httpmw.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/devices"
	"github.com/entitle/entitle/server/httpapi/httpmw"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/push"
)

// Domains are the server domains the API calls; package app builds them
// (*accounts.Service, *licenses.Service, ...).
type Domains struct {
	Accounts   Accounts
	Licenses   Licenses
	Devices    Devices
	DeviceAuth DeviceAuth
	Keys       Keys
	Passwords  Passwords // optional: POST /v1/password/forgot and /reset
	// Journal reads the journal; nil serves no journal routes.
	Journal    Journal
	Streams    *push.Hub // nil: an in-process hub of the API's own
	Commands   Commands
	Workspaces Workspaces
	// Orgs is the organizations domain; nil serves no organization routes.
	Orgs Orgs
	// Subscriptions is the seat pools' domain; nil (or no Orgs) serves no
	// subscription routes.
	Subscriptions Subscriptions
	// Plans and Orders are the catalog and the orders; both (and Orgs) are
	// needed to serve the order routes.
	Plans  Plans
	Orders Orders
}

// DomainsOf returns the domains of a, as the API takes them.
func DomainsOf(a *app.App) Domains {
	return Domains{Accounts: a.Accounts, Licenses: a.Licenses, Devices: a.Devices, DeviceAuth: a.DeviceAuth, Keys: a.Signing, Streams: a.Push, Commands: a.Commands, Workspaces: a.Workspaces,
		Journal: a.Journal, Orgs: a.Organizations, Subscriptions: a.Subscriptions, Plans: a.Plans, Orders: a.Orders}
}

// Accounts is the part of *accounts.Service the API uses.
type Accounts interface {
	Login(ctx context.Context, email, password, clientIP string) (accounts.Account, error)
	NewSession(ctx context.Context, accountID string) (string, error)
	SessionAccount(ctx context.Context, token string) (accounts.Account, error)
	EndSession(ctx context.Context, token string) error
}

// Licenses is the part of *licenses.Service the API uses.
type Licenses interface {
	PageLicenses(ctx context.Context, ownerAccountID string, req paging.Request) (paging.Page[licenses.License], error)
}

// Devices is the part of *devices.Service the API uses.
type Devices interface {
	Activate(ctx context.Context, req protocol.ActivateRequest, clientIP string) (protocol.ActivateResponse, error)
	Checkin(ctx context.Context, credential string, req protocol.CheckinRequest) (protocol.CheckinResponse, error)
	DeactivateSelf(ctx context.Context, credential string) error
	StreamDevice(ctx context.Context, credential string) (deviceID string, openCommands int, err error)
	CheckOwner(ctx context.Context, accountID, deviceID string) error
	PageDevices(ctx context.Context, accountID string, req paging.Request) (paging.Page[devices.Device], error)
	ReleaseDevice(ctx context.Context, accountID, deviceID string) error
	OrgDevices
}

// DeviceAuth is the part of *deviceauth.Service the API uses.
type DeviceAuth interface {
	StartDeviceAuth(ctx context.Context, req protocol.DeviceAuthorizeRequest, verificationURI, clientIP string) (protocol.DeviceAuthorizeResponse, error)
	PollDeviceToken(ctx context.Context, req protocol.DeviceTokenRequest) (protocol.DeviceTokenResponse, error)
}

// Keys is the part of *signing.Service the API uses.
type Keys interface {
	Keys(ctx context.Context) (*lease.KeySet, error)
}

// Pages registers the browser pages on the server's mux (package web) and
// returns their patterns.
type Pages interface {
	Register(mux *http.ServeMux) []string
}

// Config is what the API needs besides the domains.
type Config struct {
	// PublicURL is the base URL people and agents reach the server at; the
	// device verification URI is built from it.
	PublicURL      string
	TrustedProxies httpmw.TrustedProxies
	Logger         *slog.Logger
	Metrics        *httpmw.Metrics // nil: a fresh set
	// Ping checks the database for GET /v1/health; nil reports healthy.
	Ping          func(ctx context.Context) error
	HealthTimeout time.Duration // default 2s
	Pages         Pages         // optional
	Version       string
	// StreamKeepalive is how often an idle push stream carries a comment,
	// so proxies and the agent see it alive. Default 25 s.
	StreamKeepalive time.Duration
}

// Server is the API's handler set.
type Server struct {
	d       Domains
	cfg     Config
	logger  *slog.Logger
	metrics *httpmw.Metrics
	// checkinsOK is metrics.Checkins{result="ok"}, looked up once: the
	// check-in is the hot route.
	checkinsOK prometheus.Counter
	verify     string // verification URI
	mux        *http.ServeMux
	routes     []string
	handler    http.Handler
}

// New builds the server and its handler chain.
func New(d Domains, cfg Config) (*Server, error) {
	if d.Accounts == nil || d.Licenses == nil || d.Devices == nil || d.DeviceAuth == nil || d.Keys == nil || d.Commands == nil {
		return nil, errors.New("httpapi: a domain is missing")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("httpapi: public URL %q must be an absolute http(s) URL", cfg.PublicURL)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = httpmw.NewMetrics()
	}
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = 2 * time.Second
	}
	if cfg.StreamKeepalive <= 0 {
		cfg.StreamKeepalive = DefaultStreamKeepalive
	}
	if d.Streams == nil {
		d.Streams = push.New(nil, cfg.Logger)
	}
	s := &Server{
		d: d, cfg: cfg, logger: cfg.Logger, metrics: cfg.Metrics, checkinsOK: cfg.Metrics.Checkins.WithLabelValues("ok"),
		verify: strings.TrimRight(cfg.PublicURL, "/") + protocol.PathVerify,
		mux:    http.NewServeMux(),
	}
	s.register()
	if cfg.Pages != nil {
		s.routes = append(s.routes, cfg.Pages.Register(s.mux)...)
	}
	// Outermost first. Identify comes first so every later layer can log the
	// request id; Recover sits inside the log and metrics so a panic is
	// recorded as the 500 it becomes.
	var h http.Handler = httpmw.CaptureRoute(s.mux)
	h = httpmw.SecurityHeaders(u.Scheme == "https", h)
	h = httpmw.Recover(s.logger, h)
	h = s.metrics.Middleware(h)
	// Check-ins are the hot path: logged at debug, one in 1,000 at info,
	// errors and slow ones always (docs/operations.md, "Logs").
	h = httpmw.AccessLogWith(s.logger, httpmw.LogPolicy{Quiet: []string{"POST " + protocol.PathCheckin}, SampleEvery: 1000}, h)
	h = journalRequest(h)
	h = httpmw.Identify(cfg.TrustedProxies, h)
	s.handler = h
	return s, nil
}

// Handler returns the complete handler (API, metrics, pages, middleware).
func (s *Server) Handler() http.Handler { return s.handler }

// Routes lists every ServeMux pattern served (API, metrics, pages), so a
// test can hold docs/openapi/server.yaml to them.
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, h)
}

func (s *Server) register() {
	s.handle("GET "+protocol.PathHealth, s.health)
	s.handle("GET "+protocol.PathKeys, s.keys)
	s.handle("POST "+protocol.PathActivations, s.activate)
	s.handle("POST "+protocol.PathDeviceAuthorize, s.deviceAuthorize)
	s.handle("POST "+protocol.PathDeviceToken, s.deviceToken)
	s.handle("POST "+protocol.PathCheckin, s.checkin)
	s.handle("DELETE "+protocol.PathDevice, s.deactivateSelf)
	s.handle("GET "+protocol.PathDeviceStream, s.deviceStream)
	s.handle("POST "+PathSessions, s.createSession)
	s.handle("DELETE "+PathSessions, s.endSession)
	s.handle("GET "+PathAccountLicenses, s.accountLicenses)
	s.handle("GET "+PathAccountDevices, s.accountDevices)
	s.handle("DELETE "+PathAccountDevices+"/{id}", s.releaseDevice)
	s.registerPasswords()
	s.registerCommands()
	s.registerWorkspaces()
	s.handle("GET /metrics", s.metrics.Handler().ServeHTTP)
	s.registerJournal()
	s.registerOrgs()
	s.registerOrgDevices()
	s.registerSubscriptions()
	s.registerOrders()
	// Unknown /v1 paths answer in the API's JSON error format, not net/http's
	// plain-text 404. This pattern takes every method, so ServeMux's own 405
	// never shows under /v1: notFound tells a wrong method (405 with Allow)
	// from an unknown path (404).
	s.mux.HandleFunc(apiCatchAll, s.notFound)
}

const apiCatchAll = "/v1/"

// methods an API route may have, for the Allow header of a 405.
var apiMethods = [...]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range apiMethods {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != apiCatchAll {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, apiError(protocol.ErrMethodNotAllowed, r.Method+" is not allowed here; allowed: "+strings.Join(allow, ", ")))
		return
	}
	writeError(w, apiError(protocol.ErrNotFound, "no such endpoint"))
}

// HealthResponse is the body of GET /v1/health.
type HealthResponse struct {
	Status   string `json:"status"` // "ok" or "unavailable"
	Database string `json:"database"`
	Version  string `json:"version,omitempty"`
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	resp := HealthResponse{Status: "ok", Database: "ok", Version: s.cfg.Version}
	if s.cfg.Ping != nil {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.HealthTimeout)
		defer cancel()
		if err := s.cfg.Ping(ctx); err != nil {
			s.logger.WarnContext(r.Context(), "health check: database unreachable", "error", err)
			resp.Status, resp.Database = "unavailable", "unreachable"
			// 503 rather than protocol's 500: load balancers read it as
			// "take this instance out", which is the point of the check.
			writeJSON(w, http.StatusServiceUnavailable, resp)
			return
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) keys(w http.ResponseWriter, r *http.Request) {
	ks, err := s.d.Keys.Keys(r.Context())
	if err != nil {
		s.failure(w, r, "keys", err)
		return
	}
	writeJSON(w, http.StatusOK, ks)
}
