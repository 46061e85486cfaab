package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// stockConfig is golang.org/x/oauth2's client for the server's device grant,
// configured from the RFC alone: client_id is the product.
func stockConfig(e *apitest.Env) *oauth2.Config {
	return &oauth2.Config{ClientID: "entitle", Endpoint: oauth2.Endpoint{
		DeviceAuthURL: e.URL(protocol.PathDeviceAuthorize), TokenURL: e.URL(protocol.PathDeviceToken), AuthStyle: oauth2.AuthStyleInParams}}
}

// approveInPages signs in on the verification page and approves userCode,
// as a person does in a browser.
func approveInPages(t *testing.T, e *apitest.Env, verificationURIComplete, email string) {
	t.Helper()
	u, err := url.Parse(verificationURIComplete)
	if err != nil {
		t.Fatal(err)
	}
	code := u.Query().Get("user_code")
	c := e.Browser(t)
	tok := form(t, c, e.URL(u.RequestURI()))
	resp, err := c.PostForm(e.URL("/login"), url.Values{"csrf": {tok}, "flow": {"device"}, "user_code": {code}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tok = form(t, c, e.URL(resp.Header.Get("Location")))
	if st := post(t, c, e.URL("/device/approve"), url.Values{"csrf": {tok}, "user_code": {code}}); st >= 400 {
		t.Fatalf("approve: status %d", st)
	}
}

// Issue 14: an unchanged stock OAuth client (golang.org/x/oauth2's
// DeviceAuth and DeviceAccessToken) signs a computer in; the access token is
// the device credential and the token response carries the lease.
func TestDeviceGrantStockClient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		const email = "stock@example.com"
		e.Account(t, email, password, 1, time.Now().AddDate(1, 0, 0))
		cfg := stockConfig(e)
		ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), oauth2.HTTPClient, e.Server.Client()), time.Minute)
		defer cancel()
		fp := apitest.Fingerprint("stock-client")
		da, err := cfg.DeviceAuth(ctx, oauth2.SetAuthURLParam(protocol.ParamFingerprint, fp),
			oauth2.SetAuthURLParam(protocol.ParamHostname, "stock"), oauth2.SetAuthURLParam(protocol.ParamOS, "linux"))
		if err != nil {
			t.Fatalf("DeviceAuth: %v", err)
		}
		if da.DeviceCode == "" || da.UserCode == "" || da.Interval <= 0 || da.Expiry.IsZero() || !strings.HasPrefix(da.VerificationURIComplete, e.URL("/device?")) {
			t.Fatalf("DeviceAuth = %+v", da)
		}

		type result struct {
			tok *oauth2.Token
			err error
		}
		got := make(chan result, 1)
		go func() {
			tok, err := cfg.DeviceAccessToken(ctx, da)
			got <- result{tok, err}
		}()
		approveInPages(t, e, da.VerificationURIComplete, email)
		r := <-got
		if r.err != nil {
			t.Fatalf("DeviceAccessToken: %v", r.err)
		}
		if r.tok.AccessToken == "" || r.tok.Type() != "Bearer" || time.Until(r.tok.Expiry) < time.Hour {
			t.Fatalf("token = %+v", r.tok)
		}
		lz, _ := r.tok.Extra("lease").(string)
		if _, err := lease.Verify(lz, keySet(t, e), fp, time.Now()); err != nil {
			t.Fatalf("lease in the token response: %v", err)
		}
		if id, _ := r.tok.Extra("device_id").(string); id == "" {
			t.Fatal("no device_id in the token response")
		}
		// The access token is the device credential.
		checkin := protocol.CheckinRequest{Fingerprint: fp, Device: protocol.DeviceFacts{Hostname: "stock"}}
		if st := e.Do(t, "POST", protocol.PathCheckin, r.tok.AccessToken, checkin, nil); st != http.StatusOK {
			t.Fatalf("check-in with the access token: %d", st)
		}

		// Used up: the stock client gets the RFC error, never cached.
		_, err = cfg.DeviceAccessToken(ctx, &oauth2.DeviceAuthResponse{DeviceCode: da.DeviceCode, Interval: 1})
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != protocol.ErrExpiredToken || re.ErrorDescription == "" ||
			re.Response.StatusCode != http.StatusBadRequest || re.Response.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("reused device code: %v", err)
		}
	})
}

// The endpoints speak only the RFC's form: a JSON body, a wrong grant type,
// a missing or foreign client_id are each refused with the RFC error.
func TestDeviceGrantErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		fp := apitest.Fingerprint("errors")
		var auth protocol.DeviceAuthorizeResponse
		if st := e.Do(t, "POST", protocol.PathDeviceAuthorize, "", protocol.DeviceAuthorizeRequest{Fingerprint: fp, Product: "entitle"}.Form(), &auth); st != http.StatusOK {
			t.Fatalf("authorize: %d", st)
		}
		cases := []struct {
			name, path string
			body       any
			code       string
		}{
			{"json authorize", protocol.PathDeviceAuthorize, map[string]string{"fingerprint": fp, "product": "entitle"}, protocol.ErrInvalidRequest},
			{"no client_id", protocol.PathDeviceAuthorize, url.Values{"fingerprint": {fp}}, protocol.ErrInvalidClient},
			{"bad fingerprint", protocol.PathDeviceAuthorize, url.Values{"client_id": {"entitle"}, "fingerprint": {"x"}}, protocol.ErrInvalidRequest},
			{"json token", protocol.PathDeviceToken, map[string]string{"device_code": auth.DeviceCode}, protocol.ErrInvalidRequest},
			{"no grant_type", protocol.PathDeviceToken, url.Values{"device_code": {auth.DeviceCode}, "client_id": {"entitle"}}, protocol.ErrInvalidRequest},
			{"other grant_type", protocol.PathDeviceToken, url.Values{"grant_type": {"authorization_code"}, "device_code": {auth.DeviceCode}, "client_id": {"entitle"}}, protocol.ErrUnsupportedGrantType},
			{"no client_id", protocol.PathDeviceToken, protocol.DeviceTokenRequest{DeviceCode: auth.DeviceCode}.Form(), protocol.ErrInvalidClient},
			{"foreign client_id", protocol.PathDeviceToken, protocol.DeviceTokenRequest{DeviceCode: auth.DeviceCode, ClientID: "other"}.Form(), protocol.ErrInvalidGrant},
			{"pending", protocol.PathDeviceToken, protocol.DeviceTokenRequest{DeviceCode: auth.DeviceCode, ClientID: "entitle"}.Form(), protocol.ErrAuthorizationPending},
			{"slow_down", protocol.PathDeviceToken, protocol.DeviceTokenRequest{DeviceCode: auth.DeviceCode, ClientID: "entitle"}.Form(), protocol.ErrSlowDown},
		}
		for _, c := range cases {
			var oe protocol.OAuthError
			if st := e.Do(t, "POST", c.path, "", c.body, &oe); st != http.StatusBadRequest || oe.Error != c.code || oe.ErrorDescription == "" {
				t.Errorf("%s %s: %d %+v, want 400 %s", c.path, c.name, st, oe, c.code)
			}
		}
	})
}

// Issue 16 item 4: past the per-address limit, starts answer 429 slow_down
// with Retry-After, and store nothing.
func TestDeviceAuthorizeThrottled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		refused := 0
		for i := range 40 {
			req := protocol.DeviceAuthorizeRequest{Fingerprint: apitest.Fingerprint(strings.Repeat("f", i+1)), Product: "entitle"}
			resp, err := e.Server.Client().PostForm(e.URL(protocol.PathDeviceAuthorize), req.Form())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
			case http.StatusTooManyRequests:
				if resp.Header.Get("Retry-After") == "" || resp.Header.Get("Cache-Control") != "no-store" {
					t.Fatalf("429 without Retry-After or no-store: %v", resp.Header)
				}
				refused++
			default:
				t.Fatalf("authorize %d: status %d", i, resp.StatusCode)
			}
		}
		var n int
		if err := e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM device_authorizations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if refused < 15 || n != 40-refused || n > 25 {
			t.Fatalf("%d refused, %d stored of 40 from one address", refused, n)
		}
	})
}
