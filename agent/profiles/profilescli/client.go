package profilescli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

// maxResponse bounds a response read from the agent (a bundle is at most
// 64 MiB).
const maxResponse = 80 << 20

// Client is a small helper for the agent's local API: base URL and token.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

// NewClient returns a client of the agent at baseURL (e.g.
// "http://127.0.0.1:7343") using the API token.
func NewClient(baseURL, token string, hc *http.Client) (*Client, error) {
	if !strings.HasPrefix(baseURL, "http://") && !strings.HasPrefix(baseURL, "https://") {
		return nil, fmt.Errorf("agent URL %q must start with http:// or https://", baseURL)
	}
	if strings.ContainsAny(token, "\r\n\x00") {
		return nil, errors.New("the API token contains control characters")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Minute} // bundles are encrypted with scrypt
	}
	return &Client{base: strings.TrimSuffix(baseURL, "/"), token: token, hc: hc}, nil
}

// Do sends a JSON request (body may be nil) and returns the response body.
// A non-2xx answer is returned as *agentapi.Error.
func (c *Client) Do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(agentapi.TokenHeader, c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the agent: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("reading the agent's answer: %w", err)
	}
	if len(data) > maxResponse {
		return nil, errors.New("the agent's answer is too large")
	}
	if resp.StatusCode/100 != 2 {
		var e agentapi.Error
		if json.Unmarshal(data, &e) == nil && e.Code != "" {
			return nil, &e
		}
		return nil, fmt.Errorf("agent answered %s", resp.Status)
	}
	return data, nil
}

// JSON sends a request and decodes a JSON answer into out.
func (c *Client) JSON(ctx context.Context, method, path string, body, out any) error {
	data, err := c.Do(ctx, method, path, body)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("malformed answer from the agent: %w", err)
	}
	return nil
}

// Deactivate releases this computer's seat (DELETE /v1/activation).
func (c *Client) Deactivate(ctx context.Context) error {
	_, err := c.Do(ctx, http.MethodDelete, agentapi.PathActivation, nil)
	return err
}

// ActivateBrowser starts a browser sign-in (POST /v1/activation).
func (c *Client) ActivateBrowser(ctx context.Context) (agentapi.ActivateResponse, error) {
	var r agentapi.ActivateResponse
	err := c.JSON(ctx, http.MethodPost, agentapi.PathActivation, agentapi.ActivateRequest{Method: agentapi.ActivateBrowser}, &r)
	return r, err
}
