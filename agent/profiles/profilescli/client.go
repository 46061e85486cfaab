package profilescli

import (
	"context"
	"net/http"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/agentclient"
)

// maxResponse bounds a response read from the agent (a bundle is at most
// 64 MiB).
const maxResponse = 80 << 20

// Client is the local API client the profile commands use: pkg/agentclient,
// plus raw-bytes answers for exports and a timeout fit for bundles.
type Client struct {
	c *agentclient.Client
}

// NewClient returns a client of the agent at baseURL (e.g.
// "http://127.0.0.1:7343") using the API token. A nil hc gets a 5-minute
// timeout: bundles are encrypted with scrypt, which takes seconds.
func NewClient(baseURL, token string, hc *http.Client) (*Client, error) {
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil // the agent is local; never go through a proxy
		hc = &http.Client{Transport: tr, Timeout: 5 * time.Minute}
	}
	c, err := agentclient.New(agentclient.Options{BaseURL: baseURL, Token: token, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// Do sends a JSON request (body may be nil) and returns the response body.
// A non-2xx answer is returned as *agentapi.Error.
func (c *Client) Do(ctx context.Context, method, path string, body any) ([]byte, error) {
	return c.c.Bytes(ctx, method, path, body, maxResponse)
}

// JSON sends a request and decodes a JSON answer into out.
func (c *Client) JSON(ctx context.Context, method, path string, body, out any) error {
	return c.c.Do(ctx, method, path, body, out)
}

// Deactivate releases this computer's seat (DELETE /v1/activation).
func (c *Client) Deactivate(ctx context.Context) error { return c.c.Deactivate(ctx) }

// ActivateBrowser starts a browser sign-in (POST /v1/activation).
func (c *Client) ActivateBrowser(ctx context.Context) (agentapi.ActivateResponse, error) {
	r, err := c.c.Activate(ctx, agentapi.ActivateRequest{Method: agentapi.ActivateBrowser})
	if err != nil {
		return agentapi.ActivateResponse{}, err
	}
	return *r, nil
}
