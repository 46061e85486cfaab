package engine

// A licensing server implementing the pkg/protocol wire contract faithfully
// (status codes per protocol.HTTPStatus, error bodies, bearer credentials,
// RFC 8628 polling), used by the engine's unit tests. It can be served over
// real TCP (httptest.Server) or in memory (handlerTransport) inside a
// testing/synctest bubble, where real sockets would stall the fake clock.

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/protocol"
)

type device struct {
	id, fp, cred string
	revoked      bool
}

type testServer struct {
	t      testing.TB
	signer *lease.Signer

	mu          sync.Mutex
	now         func() time.Time
	ttl         time.Duration // lease lifetime
	checkinSecs int
	seats       int
	devices     map[string]*device // by credential
	termEnd     int64
	features    []string
	mgmt        string
	suspended   bool
	down        bool // answer 503
	requests    map[string]int
	lastCheckin protocol.CheckinRequest
	// device authorization
	authState   string // "pending", "approved", "denied", "slow"
	deviceCode  string
	authFP      string
	authProduct string
	unreachable bool // the in-memory transport fails as if the server were down
	nextCred    int
	checkinHook func(w http.ResponseWriter) bool // may answer instead of the server
	// Remote commands: queued ones are delivered in every check-in answer
	// until a result for their id arrives (or always, with redeliver).
	queued    []protocol.Command
	redeliver bool
	results   []protocol.CommandResult
}

func newTestServer(t testing.TB) *testServer {
	priv, err := lease.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := lease.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{t: t, signer: s, now: time.Now, ttl: time.Hour, checkinSecs: 600, seats: 3,
		devices: map[string]*device{}, requests: map[string]int{}, features: []string{"sign", "timestamp"}}
}

func (s *testServer) keys() *lease.KeySet {
	ks, err := lease.NewKeySet(s.signer.Public())
	if err != nil {
		s.t.Fatal(err)
	}
	return ks
}

func (s *testServer) publicKey() ed25519.PublicKey { return s.signer.Public() }

func (s *testServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

func (s *testServer) set(f func(s *testServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *testServer) activeSeats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range s.devices {
		if !d.revoked {
			n++
		}
	}
	return n
}

func writeErr(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(protocol.HTTPStatus(code))
	json.NewEncoder(w).Encode(protocol.Error{Code: code, Message: msg})
}

// writeGrantErr answers a device grant error as RFC 6749 section 5.2 does.
func writeGrantErr(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(protocol.OAuthError{Error: code, ErrorDescription: msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (s *testServer) leaseFor(d *device) string { return s.leaseNonce(d, "") }

func (s *testServer) leaseNonce(d *device, nonce string) string {
	now := s.now()
	c := lease.Claims{
		Issuer: "test", Subject: d.id, ID: fmt.Sprintf("l-%d", now.UnixNano()), IssuedAt: now.Unix(), NotBefore: now.Unix() - 60,
		Expiry: now.Add(s.ttl).Unix(), CheckinAt: now.Add(time.Duration(s.checkinSecs) * time.Second).Unix(),
		Fingerprint: d.fp, Product: "entitle-signing", Account: "ann@example.com", Organization: "Acme",
		ManagementMode: s.mgmt, Nonce: nonce,
		License: lease.License{ID: "lic_1", Plan: "pro", Features: s.features, MaxProfiles: 5, TermEnd: s.termEnd},
	}
	tok, err := s.signer.Sign(c)
	if err != nil {
		s.t.Errorf("sign: %v", err)
	}
	return tok
}

// activate answers an activation; grant answers it as the device grant's
// token response.
func (s *testServer) activate(w http.ResponseWriter, fp, nonce string, grant ...bool) {
	answer, fail := func(r protocol.ActivateResponse) { writeJSON(w, r) }, writeErr
	if len(grant) > 0 && grant[0] {
		answer = func(r protocol.ActivateResponse) {
			writeJSON(w, protocol.NewDeviceTokenResponse(r, int(s.ttl/time.Second)))
		}
		fail = writeGrantErr
	}
	for _, d := range s.devices {
		if d.fp == fp && !d.revoked {
			s.nextCred++
			delete(s.devices, d.cred)
			d.cred = fmt.Sprintf("cred-%d", s.nextCred)
			s.devices[d.cred] = d
			answer(protocol.ActivateResponse{DeviceID: d.id, Credential: d.cred, Lease: s.leaseNonce(d, nonce), Existing: true, CheckinAfter: s.checkinSecs})
			return
		}
	}
	used := 0
	for _, d := range s.devices {
		if !d.revoked {
			used++
		}
	}
	if used >= s.seats {
		fail(w, protocol.ErrNoSeats, fmt.Sprintf("all %d seats are in use; deactivate a device first (or ask for more seats)", s.seats))
		return
	}
	s.nextCred++
	d := &device{id: fmt.Sprintf("dev_%d", s.nextCred), fp: fp, cred: fmt.Sprintf("cred-%d", s.nextCred)}
	s.devices[d.cred] = d
	answer(protocol.ActivateResponse{DeviceID: d.id, Credential: d.cred, Lease: s.leaseNonce(d, nonce), SeatsUsed: used + 1, SeatsTotal: s.seats, CheckinAfter: s.checkinSecs})
}

func (s *testServer) bearer(r *http.Request) (*device, bool) {
	cred, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, false
	}
	d, ok := s.devices[cred]
	return d, ok
}

func (s *testServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[r.URL.Path]++
	if s.down {
		writeErr(w, protocol.ErrInternal, "maintenance")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, protocol.MaxBodyBytes+1))
	if err != nil || len(body) > protocol.MaxBodyBytes {
		writeErr(w, protocol.ErrTooLarge, "too large")
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == protocol.PathActivations:
		var req protocol.ActivateRequest
		if json.Unmarshal(body, &req) != nil || !lease.ValidFingerprint(req.Fingerprint) || req.Product == "" {
			writeErr(w, protocol.ErrInvalidRequest, "bad request")
			return
		}
		switch {
		case req.Method == protocol.MethodLicenseKey && req.LicenseKey == goodKey:
		case req.Method == protocol.MethodPassword && req.Email == "ann@example.com" && req.Password == "hunter2":
		case req.Method == protocol.MethodPassword:
			writeErr(w, protocol.ErrInvalidCredentials, "wrong email or password")
			return
		default:
			writeErr(w, protocol.ErrUnknownLicense, "no such license key")
			return
		}
		s.activate(w, req.Fingerprint, req.Nonce)
	case r.Method == http.MethodPost && r.URL.Path == protocol.PathDeviceAuthorize:
		form, err := grantForm(r, body)
		req, perr := protocol.ParseDeviceAuthorizeRequest(form)
		if err != nil || perr != nil || req.Validate() != nil || !lease.ValidFingerprint(req.Fingerprint) {
			writeGrantErr(w, protocol.ErrInvalidRequest, "bad request")
			return
		}
		s.authProduct = req.Product
		s.deviceCode = "devcode-" + req.Fingerprint[:8]
		s.authFP = req.Fingerprint
		s.authState = "pending"
		writeJSON(w, protocol.DeviceAuthorizeResponse{DeviceCode: s.deviceCode, UserCode: "WDJB-MJHT",
			VerificationURI: "http://server.test/device", VerificationURIComplete: "http://server.test/device?user_code=WDJB-MJHT",
			ExpiresIn: 600, Interval: 1})
	case r.Method == http.MethodPost && r.URL.Path == protocol.PathDeviceToken:
		form, err := grantForm(r, body)
		req, perr := protocol.ParseDeviceTokenRequest(form)
		switch {
		case err != nil || perr != nil:
			writeGrantErr(w, protocol.ErrInvalidRequest, "bad request")
			return
		case req.Validate() != nil:
			writeGrantErr(w, req.Validate().Code, req.Validate().Message)
			return
		case req.ClientID != s.authProduct:
			writeGrantErr(w, protocol.ErrInvalidClient, "wrong client_id")
			return
		case req.DeviceCode != s.deviceCode:
			writeGrantErr(w, protocol.ErrInvalidGrant, "unknown device code")
			return
		}
		switch s.authState {
		case "pending":
			writeGrantErr(w, protocol.ErrAuthorizationPending, "waiting")
		case "slow":
			s.authState = "pending"
			writeGrantErr(w, protocol.ErrSlowDown, "slow down")
		case "denied":
			writeGrantErr(w, protocol.ErrAccessDenied, "denied")
		case "expired":
			writeGrantErr(w, protocol.ErrExpiredToken, "expired")
		case "approved":
			s.deviceCode = ""
			s.activate(w, s.authFP, "", true)
		}
	case r.Method == http.MethodPost && r.URL.Path == protocol.PathCheckin:
		if s.checkinHook != nil && s.checkinHook(w) {
			return
		}
		d, ok := s.bearer(r)
		if !ok {
			writeErr(w, protocol.ErrInvalidCredentials, "unknown device credential")
			return
		}
		if d.revoked {
			writeErr(w, protocol.ErrDeviceRevoked, "an administrator removed this device")
			return
		}
		var req protocol.CheckinRequest
		if json.Unmarshal(body, &req) != nil || req.Fingerprint != d.fp {
			writeErr(w, protocol.ErrInvalidRequest, "fingerprint mismatch")
			return
		}
		if s.suspended {
			writeErr(w, protocol.ErrLicenseSuspended, "the license is suspended: payment overdue")
			return
		}
		s.lastCheckin = req
		s.results = append(s.results, req.CommandResults...)
		cmds := []protocol.Command{}
		for _, c := range s.queued {
			done := false
			for _, r := range req.CommandResults {
				done = done || r.ID == c.ID
			}
			if !done || s.redeliver {
				cmds = append(cmds, c)
			}
		}
		s.queued = cmds
		writeJSON(w, protocol.CheckinResponse{Lease: s.leaseFor(d), Commands: cmds, CheckinAfter: s.checkinSecs})
	case r.Method == http.MethodDelete && r.URL.Path == protocol.PathDevice:
		d, ok := s.bearer(r)
		if !ok {
			writeErr(w, protocol.ErrInvalidCredentials, "unknown device credential")
			return
		}
		if d.revoked {
			writeErr(w, protocol.ErrDeviceRevoked, "already deactivated")
			return
		}
		d.revoked = true
		w.WriteHeader(http.StatusNoContent)
	default:
		writeErr(w, protocol.ErrNotFound, "no such endpoint")
	}
}

// memTransport serves requests in memory with the test server, or fails
// like a refused connection while s.unreachable is set.
type memTransport struct{ s *testServer }

func (t memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.s.mu.Lock()
	down := t.s.unreachable
	t.s.mu.Unlock()
	if down {
		return failTransport{}.RoundTrip(r)
	}
	if r.Body == nil {
		r.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.s.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func (s *testServer) client() *http.Client { return &http.Client{Transport: memTransport{s}} }

// failTransport fails every request as an unreachable server would.
type failTransport struct{}

func (failTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("dial tcp 127.0.0.1:1: connect: connection refused")
}

// goodKey is a valid license key (checked by pkg/licensekey) that the test
// server accepts.
var goodKey = func() string {
	k, err := licensekey.Generate()
	if err != nil {
		panic(err)
	}
	return k
}()

var otherKey = func() string {
	k, err := licensekey.Generate()
	if err != nil {
		panic(err)
	}
	return k
}()

// grantForm parses a device grant's form body, refusing any other type.
func grantForm(r *http.Request, body []byte) (url.Values, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, fmt.Errorf("content type %q", mt)
	}
	return url.ParseQuery(string(body))
}
