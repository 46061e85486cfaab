package client

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/lease"
)

const (
	product = "entitle-signing"
	myFP    = "1111111111111111111111111111111111111111111111111111111111111111"
	otherFP = "2222222222222222222222222222222222222222222222222222222222222222"
)

var now = time.Unix(1_800_000_000, 0)

type fixture struct {
	pinned  *lease.Signer
	foreign *lease.Signer // a key the app does not trust
	keys    *lease.KeySet
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	mk := func() *lease.Signer {
		k, err := lease.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		s, err := lease.NewSigner(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	f := &fixture{pinned: mk(), foreign: mk()}
	ks, err := lease.NewKeySet(f.pinned.Public())
	if err != nil {
		t.Fatal(err)
	}
	f.keys = ks
	return f
}

func claims(mod func(*lease.Claims)) lease.Claims {
	c := lease.Claims{
		Issuer: "test", Subject: "dev_1", ID: "lease_1",
		IssuedAt: now.Add(-time.Hour).Unix(), NotBefore: now.Add(-time.Hour).Unix(), Expiry: now.Add(24 * time.Hour).Unix(),
		CheckinAt: now.Add(time.Hour).Unix(), Fingerprint: myFP, Product: product,
		License: lease.License{ID: "lic_1", Plan: "pro", Features: []string{"sign", "timestamp"}, MaxProfiles: 3},
	}
	if mod != nil {
		mod(&c)
	}
	return c
}

func sign(t *testing.T, s *lease.Signer, c lease.Claims) string {
	t.Helper()
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// answer is the entitlement an honest agent would give for c.
func answer(tok string, c lease.Claims) agentapi.Entitlement {
	exp := c.ExpiryTime()
	return agentapi.Entitlement{Entitled: true, State: agentapi.StateActive, Reason: "licensed", Plan: c.License.Plan,
		Features: c.License.Features, LicenseID: c.License.ID, DeviceID: c.Subject, LeaseExpiry: &exp, Lease: tok, CheckedAt: now}
}

// agent serves fixed bytes as GET /v1/entitlement: an agent that may lie.
func agent(t *testing.T, status int, body func(feature string) []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != agentapi.PathEntitlement {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body(r.URL.Query().Get("feature")))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func jsonOf(t *testing.T, e agentapi.Entitlement) func(string) []byte {
	return func(feature string) []byte {
		if feature != "" && e.Feature == "" {
			e.Feature = feature
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func newClient(t *testing.T, f *fixture, base string) *Client {
	t.Helper()
	c, err := New(Options{BaseURL: base, Keys: f.keys, ProductID: product,
		Fingerprint: func() (string, error) { return myFP, nil }, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHonestAgentAccepted(t *testing.T) {
	f := newFixture(t)
	c0 := claims(nil)
	tok := sign(t, f.pinned, c0)
	cl := newClient(t, f, agent(t, 200, jsonOf(t, answer(tok, c0))))
	res, err := cl.Check(context.Background())
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if res.Plan != "pro" || res.DeviceID != "dev_1" || res.LicenseID != "lic_1" || !res.LeaseExpiry.Equal(c0.ExpiryTime()) {
		t.Fatalf("result %+v", res)
	}
	if res, err := cl.CheckFeature(context.Background(), "sign"); err != nil || res.Feature != "sign" {
		t.Fatalf("CheckFeature: %+v %v", res, err)
	}
	// Offline (server unreachable, lease still valid) is entitled too.
	off := answer(tok, c0)
	off.State = agentapi.StateOffline
	if _, err := newClient(t, f, agent(t, 200, jsonOf(t, off))).Check(context.Background()); err != nil {
		t.Fatalf("offline: %v", err)
	}
}

func TestLyingAgentRefused(t *testing.T) {
	f := newFixture(t)
	good := claims(nil)
	goodTok := sign(t, f.pinned, good)
	lie := func(mod func(*agentapi.Entitlement)) agentapi.Entitlement {
		e := answer(goodTok, good)
		mod(&e)
		return e
	}
	withLease := func(c lease.Claims, s *lease.Signer) agentapi.Entitlement { return answer(sign(t, s, c), c) }
	for _, tc := range []struct {
		name    string
		ent     agentapi.Entitlement
		feature string
		is      error // a lease error expected in the chain, if any
	}{
		{"no lease", lie(func(e *agentapi.Entitlement) { e.Lease = "" }), "", nil},
		{"garbage lease", lie(func(e *agentapi.Entitlement) { e.Lease = "not.a.jws" }), "", lease.ErrMalformed},
		{"forged by unpinned key", withLease(good, f.foreign), "", lease.ErrUnknownKey},
		{"tampered payload", lie(func(e *agentapi.Entitlement) { e.Lease = tamper(t, goodTok) }), "", lease.ErrBadSignature},
		{"foreign computer", withLease(claims(func(c *lease.Claims) { c.Fingerprint = otherFP }), f.pinned), "", lease.ErrWrongDevice},
		{"expired lease", withLease(claims(func(c *lease.Claims) { c.Expiry = now.Add(-time.Minute).Unix() }), f.pinned), "", lease.ErrExpired},
		{"future lease", withLease(claims(func(c *lease.Claims) { c.IssuedAt = now.Add(time.Hour).Unix() }), f.pinned), "", lease.ErrIssuedInFuture},
		{"term ended", withLease(claims(func(c *lease.Claims) { c.License.TermEnd = now.Add(-time.Second).Unix() }), f.pinned), "", lease.ErrExpired},
		{"other product", withLease(claims(func(c *lease.Claims) { c.Product = "other-app" }), f.pinned), "", nil},
		{"plan inflated", lie(func(e *agentapi.Entitlement) { e.Plan = "enterprise" }), "", nil},
		{"device differs", lie(func(e *agentapi.Entitlement) { e.DeviceID = "dev_2" }), "", nil},
		{"license differs", lie(func(e *agentapi.Entitlement) { e.LicenseID = "lic_2" }), "", nil},
		{"expiry extended", lie(func(e *agentapi.Entitlement) { x := now.Add(100 * 24 * time.Hour); e.LeaseExpiry = &x }), "", nil},
		{"extra feature", lie(func(e *agentapi.Entitlement) { e.Features = append(e.Features, "batch") }), "", nil},
		{"feature not leased", lie(func(e *agentapi.Entitlement) {}), "batch", nil},
		{"answer for another feature", lie(func(e *agentapi.Entitlement) { e.Feature = "sign" }), "timestamp", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := newClient(t, f, agent(t, 200, jsonOf(t, tc.ent)))
			var res *Result
			var err error
			if tc.feature != "" {
				res, err = cl.CheckFeature(context.Background(), tc.feature)
			} else {
				res, err = cl.Check(context.Background())
			}
			var li *ErrLeaseInvalid
			if res != nil || !errors.As(err, &li) {
				t.Fatalf("got %+v, %v; want *ErrLeaseInvalid", res, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v is not %v", err, tc.is)
			}
		})
	}
}

// tamper re-encodes the lease payload with a longer expiry, keeping the
// original signature.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatal("lease is not compact JWS")
	}
	forged := sign(t, mustSigner(t), claims(func(c *lease.Claims) { c.Expiry = now.Add(1000 * time.Hour).Unix() }))
	return parts[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]
}

func mustSigner(t *testing.T) *lease.Signer {
	k, err := lease.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := lease.NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNotEntitledAndUnavailable(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name   string
		status int
		body   func(string) []byte
		state  agentapi.State // for ErrNotEntitled
	}{
		{"inactive", 200, jsonOf(t, agentapi.Entitlement{State: agentapi.StateInactive, Reason: "not activated"}), agentapi.StateInactive},
		{"entitled flag with a bad state", 200, jsonOf(t, agentapi.Entitlement{Entitled: true, State: agentapi.StateSuspended, Reason: "x"}), agentapi.StateSuspended},
		{"error status", 503, func(string) []byte { return []byte(`{"error":"unavailable","message":"starting"}`) }, ""},
		{"not json", 200, func(string) []byte { return []byte("<html>") }, ""},
		{"huge", 200, func(string) []byte { return []byte(`{"reason":"` + strings.Repeat("a", maxResponse) + `"}`) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newClient(t, f, agent(t, tc.status, tc.body)).Check(context.Background())
			var ne *ErrNotEntitled
			if tc.state != "" {
				if !errors.As(err, &ne) || ne.State != tc.state {
					t.Fatalf("err %v, want ErrNotEntitled{%s}", err, tc.state)
				}
				return
			}
			if !errors.Is(err, ErrAgentUnavailable) {
				t.Fatalf("err %v, want ErrAgentUnavailable", err)
			}
		})
	}
	t.Run("nothing listening", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if _, err := newClient(t, f, "http://"+addr).Check(context.Background()); !errors.Is(err, ErrAgentUnavailable) {
			t.Fatalf("err %v", err)
		}
	})
}

func TestNewValidates(t *testing.T) {
	f := newFixture(t)
	empty, _ := lease.NewKeySet()
	for _, o := range []Options{
		{ProductID: product},
		{Keys: empty, ProductID: product},
		{Keys: f.keys},
		{Keys: f.keys, ProductID: product, BaseURL: "ftp://x"},
		{Keys: f.keys, ProductID: product, BaseURL: "http://"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
	c, err := New(Options{Keys: f.keys, ProductID: product})
	if err != nil || c.base.String() != DefaultBaseURL {
		t.Fatalf("defaults: %v %v", c, err)
	}
}
