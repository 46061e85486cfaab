// Package agentclient is the Go client of the agent's local REST API (the
// paths, types and token header are in pkg/agentapi). The tray, the command
// line and tests use it. It never sends Origin or Referer headers: the agent
// rejects requests that carry them, as browsers do.
package agentclient

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

// ErrAgentNotRunning is returned (wrapped) when nothing listens at the agent's
// address (connection refused).
var ErrAgentNotRunning = errors.New("agentclient: the agent is not running")

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// maxResponseBody bounds how much of a JSON response is decoded.
const maxResponseBody = 8 << 20

// maxTokenFile bounds the size of the API token file.
const maxTokenFile = 4 << 10

// Options configure a Client.
type Options struct {
	// BaseURL is the agent's address, e.g. "http://127.0.0.1:7343".
	// Empty means "http://" + agentapi.DefaultListen.
	BaseURL string
	// Token is the API token (see ReadToken). It is sent in agentapi.TokenHeader.
	Token string
	// HTTPClient is used for every request; nil means a client with sensible
	// timeouts for short calls (Events uses no overall timeout).
	HTTPClient *http.Client
}

// Client talks to one agent. It is safe for concurrent use.
type Client struct {
	base   *url.URL
	token  string
	hc     *http.Client
	stream *http.Client // for Events: no overall timeout
}

// New returns a client. It fails on a malformed BaseURL or a token with
// characters that cannot appear in an HTTP header.
func New(o Options) (*Client, error) {
	raw := o.BaseURL
	if raw == "" {
		raw = "http://" + agentapi.DefaultListen
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("agentclient: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("agentclient: base URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("agentclient: base URL %q has no host", raw)
	}
	if strings.ContainsAny(o.Token, "\r\n\x00") {
		return nil, errors.New("agentclient: token contains control characters")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	hc := o.HTTPClient
	stream := o.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil // the agent is local; never go through a proxy
		hc = &http.Client{Transport: tr, Timeout: 60 * time.Second}
		stream = &http.Client{Transport: tr}
	}
	return &Client{base: u, token: o.Token, hc: hc, stream: stream}, nil
}

// ReadToken reads the API token from the agent's state folder. The token must
// be non-empty hexadecimal (surrounding white space is trimmed).
func ReadToken(stateDir string) (string, error) {
	return ReadTokenFile(filepath.Join(stateDir, agentapi.TokenFile))
}

// ReadTokenFile reads and validates a token file at an explicit path.
func ReadTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("agentclient: read token: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("agentclient: read token %s: %w", path, err)
	}
	if len(b) > maxTokenFile {
		return "", fmt.Errorf("agentclient: token file %s is too large", path)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("agentclient: token file %s is empty", path)
	}
	if _, err := hex.DecodeString(tok); err != nil {
		return "", fmt.Errorf("agentclient: token file %s: not hexadecimal", path)
	}
	return tok, nil
}

// Entitlement asks whether this computer is entitled, optionally to one feature.
func (c *Client) Entitlement(ctx context.Context, feature string) (*agentapi.Entitlement, error) {
	p := agentapi.PathEntitlement
	if feature != "" {
		p += "?" + url.Values{"feature": {feature}}.Encode()
	}
	var e agentapi.Entitlement
	if err := c.Do(ctx, http.MethodGet, p, nil, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// Status returns everything the tray shows.
func (c *Client) Status(ctx context.Context) (*agentapi.Status, error) {
	var s agentapi.Status
	if err := c.Do(ctx, http.MethodGet, agentapi.PathStatus, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Activate activates this computer. For agentapi.ActivateBrowser the response
// carries the code and URL to show; the agent finishes the sign-in by itself.
func (c *Client) Activate(ctx context.Context, req agentapi.ActivateRequest) (*agentapi.ActivateResponse, error) {
	var r agentapi.ActivateResponse
	if err := c.Do(ctx, http.MethodPost, agentapi.PathActivation, req, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Deactivate releases this computer's seat.
func (c *Client) Deactivate(ctx context.Context) error {
	return c.Do(ctx, http.MethodDelete, agentapi.PathActivation, nil, nil)
}

// Check makes the agent check in with the licensing server now.
func (c *Client) Check(ctx context.Context) error {
	return c.Do(ctx, http.MethodPost, agentapi.PathCheck, nil, nil)
}

// Health reports whether the agent answers.
func (c *Client) Health(ctx context.Context) error {
	return c.Do(ctx, http.MethodGet, agentapi.PathHealth, nil, nil)
}

// Do sends one request to path (which may carry a query). A non-nil in is
// sent as JSON; a non-nil out receives the JSON response. A non-2xx answer is
// returned as *agentapi.Error; connection refused wraps ErrAgentNotRunning.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, c.hc, method, path, in, "application/json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
		return nil
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBody))
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("agentclient: %s %s: decode response: %w", method, path, err)
	}
	return nil
}

// Bytes sends one request like Do and returns the raw response body, for
// answers that are files rather than JSON (profile exports, bundles). A body
// longer than limit bytes is an error, never silently cut.
func (c *Client) Bytes(ctx context.Context, method, path string, in any, limit int64) ([]byte, error) {
	resp, err := c.send(ctx, c.hc, method, path, in, "*/*")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("agentclient: %s %s: read response: %w", method, path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("agentclient: %s %s: response is over %d bytes", method, path, limit)
	}
	return data, nil
}

// send builds and sends a request, and turns transport failures and non-2xx
// answers into errors. On success the caller owns resp.Body.
func (c *Client) send(ctx context.Context, hc *http.Client, method, path string, in any, accept string) (*http.Response, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("agentclient: path %q must start with /", path)
	}
	ref, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("agentclient: path %q: %w", path, err)
	}
	u := *c.base
	u.Path = c.base.Path + ref.Path
	u.RawQuery = ref.RawQuery
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("agentclient: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("agentclient: %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", accept)
	if c.token != "" {
		req.Header.Set(agentapi.TokenHeader, c.token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		if isRefused(err) {
			return nil, fmt.Errorf("%w: %s %s: %w", ErrAgentNotRunning, method, path, err)
		}
		return nil, fmt.Errorf("agentclient: %s %s: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	return resp, nil
}

// decodeError reads a bounded error body into an *agentapi.Error, inventing
// one from the HTTP status when the body is not the agent's JSON.
func decodeError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var e agentapi.Error
	if err := json.Unmarshal(b, &e); err == nil && e.Code != "" {
		return &e
	}
	return &agentapi.Error{Code: codeFor(resp.StatusCode), Message: fmt.Sprintf("HTTP %d: %s", resp.StatusCode, truncate(strings.TrimSpace(string(b)), 200))}
}

func codeFor(status int) string {
	for _, c := range []string{agentapi.ErrBadRequest, agentapi.ErrUnauthorized, agentapi.ErrForbidden,
		agentapi.ErrNotFound, agentapi.ErrConflict, agentapi.ErrTooLarge, agentapi.ErrRateLimited,
		agentapi.ErrUpstream, agentapi.ErrUnavailable} {
		if agentapi.HTTPStatus(c) == status {
			return c
		}
	}
	return agentapi.ErrInternalError
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || isRefusedOS(err)
}
