// Package client is the library a signing app uses to ask the local Entitle
// agent whether this computer is entitled. It does not take the agent's word:
// it verifies the server-signed lease in the answer against pinned server keys
// and a fingerprint it computes itself, checks that the answer agrees with the
// lease, and fails closed, so a fake or tampered agent cannot grant use.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/denisbrodbeck/machineid"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/lease"
)

// DefaultBaseURL is the agent's default address.
const DefaultBaseURL = "http://" + agentapi.DefaultListen

// maxResponse bounds the agent's answer (a lease is at most lease.MaxTokenSize).
const maxResponse = 64 << 10

// Options configure a Client. Keys and ProductID are required.
type Options struct {
	BaseURL    string       // default DefaultBaseURL
	HTTPClient *http.Client // default: 5 s timeout, no proxy
	Keys       *lease.KeySet
	ProductID  string
	// Fingerprint computes this computer's fingerprint; the default is
	// machineid.ProtectedID(ProductID), the agent's own computation.
	Fingerprint func() (string, error)
	Now         func() time.Time
	// Language is sent as Accept-Language so ErrNotEntitled.Reason comes in
	// the person's language ("fr", "en"; empty: the agent's default,
	// English). ErrNotEntitled.ReasonCode is the same in every language.
	Language string
}

// Client checks entitlement with the local agent. It is safe for concurrent use.
type Client struct {
	base        *url.URL
	hc          *http.Client
	keys        *lease.KeySet
	product     string
	fingerprint func() (string, error)
	now         func() time.Time
	lang        string
}

// New validates the options and returns a client.
func New(o Options) (*Client, error) {
	if o.Keys.Len() == 0 {
		return nil, errors.New("client: no pinned server keys")
	}
	if o.ProductID == "" {
		return nil, errors.New("client: no product id")
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q must be an http URL with a host", o.BaseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if o.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil // the agent is local
		o.HTTPClient = &http.Client{Transport: tr, Timeout: 5 * time.Second}
	}
	if o.Fingerprint == nil {
		product := o.ProductID
		o.Fingerprint = func() (string, error) { return machineid.ProtectedID(product) }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if len(o.Language) > 64 || strings.ContainsAny(o.Language, "\r\n") {
		return nil, errors.New("client: language must be a short language tag such as fr")
	}
	return &Client{base: u, hc: o.HTTPClient, keys: o.Keys, product: o.ProductID, fingerprint: o.Fingerprint, now: o.Now, lang: o.Language}, nil
}

// Result is a verified entitlement. Every field comes from the verified
// lease, not from the agent's JSON.
type Result struct {
	State       agentapi.State // active or offline, as the agent reports it
	Plan        string
	Features    []string
	Feature     string // the feature asked for, if any
	LicenseID   string
	DeviceID    string
	MaxProfiles int
	LeaseExpiry time.Time
	TermEnd     time.Time // zero when the license has no end
	Claims      *lease.Claims
}

// Check asks whether this computer is entitled to the product.
func (c *Client) Check(ctx context.Context) (*Result, error) { return c.check(ctx, "") }

// CheckFeature asks whether this computer is entitled to the named feature.
func (c *Client) CheckFeature(ctx context.Context, name string) (*Result, error) {
	if name == "" || len(name) > 64 {
		return nil, errors.New("client: feature name must be 1 to 64 characters")
	}
	return c.check(ctx, name)
}

func (c *Client) check(ctx context.Context, feature string) (*Result, error) {
	ent, err := c.fetch(ctx, feature)
	if err != nil {
		return nil, err
	}
	if !ent.Entitled || !ent.State.Entitled() {
		return nil, &ErrNotEntitled{State: ent.State, Reason: clip(ent.Reason), ReasonCode: clip(ent.ReasonCode), ReasonArgs: ent.ReasonArgs, Feature: feature}
	}
	if ent.Lease == "" {
		return nil, &ErrLeaseInvalid{Cause: errors.New("the agent's answer carries no lease")}
	}
	fp, err := c.fingerprint()
	if err != nil {
		return nil, &ErrLeaseInvalid{Cause: fmt.Errorf("compute fingerprint: %w", err)}
	}
	now := c.now()
	claims, err := lease.Verify(ent.Lease, c.keys, fp, now)
	if err != nil {
		return nil, &ErrLeaseInvalid{Cause: err}
	}
	if err := agrees(ent, claims, c.product, feature, now); err != nil {
		return nil, &ErrLeaseInvalid{Cause: err}
	}
	res := &Result{
		State:       ent.State,
		Plan:        claims.License.Plan,
		Features:    slices.Clone(claims.License.Features),
		Feature:     feature,
		LicenseID:   claims.License.ID,
		DeviceID:    claims.DeviceID(),
		MaxProfiles: claims.License.MaxProfiles,
		LeaseExpiry: claims.ExpiryTime(),
		TermEnd:     claims.TermEndTime(),
		Claims:      claims,
	}
	return res, nil
}

// agrees checks that what the agent says matches the signed lease.
func agrees(ent *agentapi.Entitlement, c *lease.Claims, product, feature string, now time.Time) error {
	switch {
	case c.Product != product:
		return fmt.Errorf("lease is for product %q, not %q", c.Product, product)
	case ent.DeviceID != c.DeviceID():
		return fmt.Errorf("agent reports device %q, lease names %q", ent.DeviceID, c.DeviceID())
	case ent.LicenseID != c.License.ID:
		return fmt.Errorf("agent reports license %q, lease names %q", ent.LicenseID, c.License.ID)
	case ent.Plan != c.License.Plan:
		return fmt.Errorf("agent reports plan %q, lease grants %q", ent.Plan, c.License.Plan)
	case ent.LeaseExpiry != nil && !ent.LeaseExpiry.Equal(c.ExpiryTime()):
		return fmt.Errorf("agent reports lease expiry %s, lease says %s", ent.LeaseExpiry.UTC().Format(time.RFC3339), c.ExpiryTime().UTC().Format(time.RFC3339))
	case !c.TermEndTime().IsZero() && !now.Before(c.TermEndTime()):
		return fmt.Errorf("%w: the license term ended %s", lease.ErrExpired, c.TermEndTime().UTC().Format(time.RFC3339))
	case ent.Feature != feature:
		return fmt.Errorf("agent answered for feature %q, asked %q", ent.Feature, feature)
	case feature != "" && !c.HasFeature(feature):
		return fmt.Errorf("agent grants feature %q, the lease does not", feature)
	}
	for _, f := range ent.Features {
		if !c.HasFeature(f) {
			return fmt.Errorf("agent reports feature %q, the lease does not grant it", f)
		}
	}
	return nil
}

func (c *Client) fetch(ctx context.Context, feature string) (*agentapi.Entitlement, error) {
	u := *c.base
	u.Path += agentapi.PathEntitlement
	if feature != "" {
		u.RawQuery = url.Values{"feature": {feature}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAgentUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAgentUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the answer: %v", ErrAgentUnavailable, err)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("%w: answer over %d bytes", ErrAgentUnavailable, maxResponse)
	}
	if resp.StatusCode != http.StatusOK {
		var ae agentapi.Error
		if json.Unmarshal(body, &ae) == nil && ae.Code != "" {
			return nil, fmt.Errorf("%w: HTTP %d: %s", ErrAgentUnavailable, resp.StatusCode, clip(ae.Error()))
		}
		return nil, fmt.Errorf("%w: HTTP %d", ErrAgentUnavailable, resp.StatusCode)
	}
	var ent agentapi.Entitlement
	if err := json.Unmarshal(body, &ent); err != nil {
		return nil, fmt.Errorf("%w: malformed answer: %v", ErrAgentUnavailable, err)
	}
	return &ent, nil
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
