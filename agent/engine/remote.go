package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/protocol"
)

func randFloat() float64 { return rand.Float64() }

// networkError means the server could not be reached (or answered garbage
// at the transport level).
type networkError struct{ err error }

func (n *networkError) Error() string { return n.err.Error() }
func (n *networkError) Unwrap() error { return n.err }

// upstreamError is a non-2xx answer of the server.
type upstreamError struct {
	status int
	body   protocol.Error
}

func (u *upstreamError) Error() string {
	return fmt.Sprintf("licensing server: HTTP %d: %s", u.status, u.message())
}

func (u *upstreamError) message() string {
	if u.body.Message != "" {
		return u.body.Message
	}
	if u.body.Code != "" {
		return u.body.Code
	}
	return fmt.Sprintf("the licensing server answered HTTP %d", u.status)
}

// transient reports whether retrying later may help (server trouble or rate
// limiting) rather than the server refusing.
func (u *upstreamError) transient() bool {
	return u.status >= 500 || u.status == http.StatusTooManyRequests
}

// cleanText bounds and sanitizes text received from the server before it is
// shown or stored.
func cleanText(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		s = s[:max]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// call sends one request to the licensing server. credential, when set, is
// sent as a bearer token. Bodies are bounded by protocol.MaxBodyBytes.
func (e *Engine) call(ctx context.Context, method, path, credential string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(e.cfg.ServerURL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "entitle-agent/"+e.version)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &networkError{err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, protocol.MaxBodyBytes+1))
	if err != nil {
		return &networkError{err: fmt.Errorf("read response: %w", err)}
	}
	if len(data) > protocol.MaxBodyBytes {
		return &upstreamError{status: http.StatusBadGateway, body: protocol.Error{Message: "the licensing server's answer is too large"}}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		u := &upstreamError{status: resp.StatusCode}
		if json.Unmarshal(data, &u.body) == nil {
			u.body.Code = cleanText(u.body.Code, 64)
			u.body.Message = cleanText(u.body.Message, 512)
		} else {
			u.body = protocol.Error{}
		}
		return u
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return &upstreamError{status: http.StatusBadGateway, body: protocol.Error{Message: "the licensing server's answer is not valid JSON"}}
		}
	}
	return nil
}

// apiError converts an internal error to the error returned to callers.
func (e *Engine) apiError(err error) *agentapi.Error {
	var ae *agentapi.Error
	var ne *networkError
	var ue *upstreamError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &ne):
		return &agentapi.Error{Code: agentapi.ErrUnavailable, Message: fmt.Sprintf("cannot reach the licensing server at %s: %v", e.cfg.ServerURL, ne.err),
			Args: map[string]string{"server_url": e.cfg.ServerURL}}
	case errors.As(err, &ue):
		code := agentapi.ErrUpstream
		if ue.status < 500 { // an invalid answer (badUpstream) or a 5xx is the server failing, whatever its code says
			code = serverCode(ue.body.Code)
		}
		return &agentapi.Error{Code: code, Message: licensekey.Mask(ue.message())}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &agentapi.Error{Code: agentapi.ErrUnavailable, Message: "the request was cancelled before the licensing server answered"}
	default:
		return &agentapi.Error{Code: agentapi.ErrInternalError, Message: err.Error()}
	}
}

// errReplayed is an answer the agent refuses because it does not belong to
// its request or is older than what it already holds.
func errReplayed(why string) error {
	return badUpstream("%s (replayed answer?)", why)
}

func badUpstream(format string, args ...any) error {
	return &upstreamError{status: http.StatusBadGateway, body: protocol.Error{Message: "the licensing server sent an invalid answer: " + fmt.Sprintf(format, args...)}}
}

// verifyLease checks a lease received from the server before it is stored:
// signature by a pinned key, this computer's fingerprint, this product, the
// expected device, and not older than the lease it replaces (replay).
func (e *Engine) verifyLease(token, deviceID string, prev *lease.Claims) (*lease.Claims, error) {
	c, err := lease.Parse(token, e.keys)
	if err != nil {
		return nil, badUpstream("%v", err)
	}
	switch {
	case c.Fingerprint != e.fp:
		return nil, badUpstream("the lease is for another computer")
	case c.Product != "" && c.Product != e.cfg.ProductID:
		return nil, badUpstream("the lease is for product %q, not %q", cleanText(c.Product, 64), e.cfg.ProductID)
	case deviceID != "" && c.DeviceID() != deviceID:
		return nil, badUpstream("the lease is for another device id")
	case prev != nil && c.IssuedAt < prev.IssuedAt:
		return nil, errReplayed("the lease is older than the one already held")
	}
	e.mu.Lock()
	newest := e.st.LeaseIssuedMax
	e.mu.Unlock()
	if c.IssuedAt < newest {
		return nil, errReplayed("the lease is older than one this computer already accepted")
	}
	return c, nil
}

// validCredential bounds the device credential received from the server.
func validCredential(s string) bool {
	if s == "" || len(s) > 1024 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
