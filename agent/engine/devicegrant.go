package engine

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/entitle/entitle/pkg/protocol"
)

// The browser sign-in is an RFC 8628 device grant, spoken with
// golang.org/x/oauth2: DeviceAuth for the authorization request, and one
// token request per poll (the engine schedules its polls itself, so that a
// poll never blocks the op semaphore for longer than one request; oauth2's
// DeviceAccessToken loops until the answer).

// oauthConfig is the device grant's client: client_id is the product, sent
// in the form (a public client has no secret).
func (e *Engine) oauthConfig() *oauth2.Config {
	base := strings.TrimRight(e.cfg.ServerURL, "/")
	return &oauth2.Config{ClientID: e.cfg.ProductID, Endpoint: oauth2.Endpoint{
		DeviceAuthURL: base + protocol.PathDeviceAuthorize,
		TokenURL:      base + protocol.PathDeviceToken,
		AuthStyle:     oauth2.AuthStyleInParams,
	}}
}

// oauthContext hands oauth2 the engine's HTTP client (its timeout and
// transport), adding the agent's User-Agent.
func (e *Engine) oauthContext(ctx context.Context) context.Context {
	c := *e.client
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = userAgent{next: next, ua: "entitle-agent/" + e.version}
	return context.WithValue(ctx, oauth2.HTTPClient, &c)
}

type userAgent struct {
	next http.RoundTripper
	ua   string
}

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.ua)
	return u.next.RoundTrip(r)
}

// deviceAuthorize starts a device authorization (RFC 8628 3.1), Entitle's
// activation fields as extra form parameters.
func (e *Engine) deviceAuthorize(ctx context.Context) (protocol.DeviceAuthorizeResponse, error) {
	req := protocol.DeviceAuthorizeRequest{Fingerprint: e.fp, Product: e.cfg.ProductID, Device: e.facts}
	var opts []oauth2.AuthCodeOption
	for k, v := range req.Params() {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	da, err := e.oauthConfig().DeviceAuth(e.oauthContext(ctx), opts...)
	if err != nil {
		return protocol.DeviceAuthorizeResponse{}, grantError(ctx, err)
	}
	expiresIn := 0
	if !da.Expiry.IsZero() {
		expiresIn = max(int(math.Ceil(time.Until(da.Expiry).Seconds())), 0)
	}
	return protocol.DeviceAuthorizeResponse{DeviceCode: da.DeviceCode, UserCode: da.UserCode, VerificationURI: da.VerificationURI,
		VerificationURIComplete: da.VerificationURIComplete, ExpiresIn: expiresIn, Interval: int(min(max(da.Interval, 0), 3600))}, nil
}

// deviceToken polls the token endpoint once (RFC 8628 3.4) and returns the
// activation answer the token response carries.
func (e *Engine) deviceToken(ctx context.Context, deviceCode string) (protocol.ActivateResponse, error) {
	// oauth2's Exchange is its one-shot token request; grant_type and
	// device_code replace the authorization code's (the empty code
	// parameter it adds is ignored, RFC 6749 section 3.1).
	tok, err := e.oauthConfig().Exchange(e.oauthContext(ctx), "",
		oauth2.SetAuthURLParam(protocol.ParamGrantType, protocol.GrantTypeDeviceCode),
		oauth2.SetAuthURLParam(protocol.ParamDeviceCode, deviceCode))
	if err != nil {
		return protocol.ActivateResponse{}, grantError(ctx, err)
	}
	if !strings.EqualFold(tok.TokenType, protocol.TokenTypeBearer) || !validCredential(tok.AccessToken) {
		return protocol.ActivateResponse{}, badUpstream("the token response has no bearer access token")
	}
	str := func(k string) string { s, _ := tok.Extra(k).(string); return s }
	num := func(k string) int {
		f, _ := tok.Extra(k).(float64)
		return int(min(max(f, 0), math.MaxInt32))
	}
	existing, _ := tok.Extra("existing").(bool)
	return protocol.ActivateResponse{DeviceID: str("device_id"), Credential: tok.AccessToken, Lease: str("lease"), Existing: existing,
		SeatsUsed: num("seats_used"), SeatsTotal: num("seats_total"), CheckinAfter: num("checkin_after")}, nil
}

// grantError converts an oauth2 error into the engine's: the server's RFC
// 6749 error (code and description), a network error, or a malformed
// answer.
func grantError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := http.StatusBadGateway
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return &upstreamError{status: status, body: protocol.Error{Code: cleanText(re.ErrorCode, 64), Message: cleanText(re.ErrorDescription, 512)}}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &networkError{err: err}
	}
	return badUpstream("%s", cleanText(err.Error(), 200))
}
