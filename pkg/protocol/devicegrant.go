package protocol

import (
	"errors"
	"fmt"
	"net/url"
)

// The browser sign-in is an RFC 8628 device authorization grant: both
// endpoints take application/x-www-form-urlencoded bodies (RFC 6749 appendix
// B) and answer JSON. client_id is the product; Entitle's activation fields
// travel as extra form parameters beside the standard ones, and the token
// response carries Entitle's activation answer beside access_token.

// GrantTypeDeviceCode is the grant_type of a device access token request
// (RFC 8628 section 3.4).
const GrantTypeDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// TokenTypeBearer is the token_type of the device token response: the
// access token is the device credential, sent as a bearer token.
const TokenTypeBearer = "Bearer"

// Form parameter names of the device grant.
const (
	ParamClientID     = "client_id"
	ParamGrantType    = "grant_type"
	ParamDeviceCode   = "device_code"
	ParamFingerprint  = "fingerprint"
	ParamHostname     = "device_hostname"
	ParamOS           = "device_os"
	ParamArch         = "device_arch"
	ParamAgentVersion = "device_agent_version"
)

// Bounds of the device grant's form fields.
const (
	MaxClientID   = 128
	MaxDeviceFact = 256
	MaxDeviceCode = 128
)

// RFC 6749 section 5.2 error codes used by the device grant (beside the RFC
// 8628 ones below).
const (
	ErrInvalidGrant         = "invalid_grant"
	ErrInvalidClient        = "invalid_client"
	ErrUnsupportedGrantType = "unsupported_grant_type"
)

// DeviceAuthorizeRequest starts the browser sign-in (RFC 8628 section 3.1):
// the form parameters client_id (Product), fingerprint and device_*.
type DeviceAuthorizeRequest struct {
	Fingerprint string
	Product     string
	Device      DeviceFacts
}

// Form encodes r as the form body of POST PathDeviceAuthorize.
func (r DeviceAuthorizeRequest) Form() url.Values {
	v := url.Values{ParamClientID: {r.Product}}
	for k, s := range r.Params() {
		v.Set(k, s)
	}
	return v
}

// Params are r's form parameters other than client_id (what a client
// library sends as extra parameters).
func (r DeviceAuthorizeRequest) Params() map[string]string {
	return map[string]string{ParamFingerprint: r.Fingerprint, ParamHostname: r.Device.Hostname,
		ParamOS: r.Device.OS, ParamArch: r.Device.Arch, ParamAgentVersion: r.Device.AgentVersion}
}

// ParseDeviceAuthorizeRequest reads a device authorization form. Unknown
// parameters are ignored (RFC 6749 section 3.1).
func ParseDeviceAuthorizeRequest(v url.Values) (DeviceAuthorizeRequest, error) {
	if err := single(v); err != nil {
		return DeviceAuthorizeRequest{}, err
	}
	return DeviceAuthorizeRequest{Fingerprint: v.Get(ParamFingerprint), Product: v.Get(ParamClientID),
		Device: DeviceFacts{Hostname: v.Get(ParamHostname), OS: v.Get(ParamOS), Arch: v.Get(ParamArch), AgentVersion: v.Get(ParamAgentVersion)}}, nil
}

// Validate checks r's bounds (the fingerprint's shape is checked where it
// is used).
func (r DeviceAuthorizeRequest) Validate() error {
	if r.Product == "" || len(r.Product) > MaxClientID {
		return errors.New("client_id (the product) is missing or too long")
	}
	if r.Fingerprint == "" || len(r.Fingerprint) > 64 {
		return errors.New("fingerprint is missing or too long")
	}
	for name, s := range map[string]string{ParamHostname: r.Device.Hostname, ParamOS: r.Device.OS, ParamArch: r.Device.Arch, ParamAgentVersion: r.Device.AgentVersion} {
		if len(s) > MaxDeviceFact {
			return fmt.Errorf("%s is too long", name)
		}
	}
	return nil
}

// DeviceAuthorizeResponse is RFC 8628 section 3.2.
type DeviceAuthorizeResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// DeviceTokenRequest polls for the outcome of a device authorization (RFC
// 8628 section 3.4): grant_type, device_code and client_id.
type DeviceTokenRequest struct {
	GrantType  string
	DeviceCode string
	ClientID   string
}

// Form encodes r as the form body of POST PathDeviceToken; an empty
// GrantType is GrantTypeDeviceCode.
func (r DeviceTokenRequest) Form() url.Values {
	gt := r.GrantType
	if gt == "" {
		gt = GrantTypeDeviceCode
	}
	v := url.Values{ParamGrantType: {gt}, ParamDeviceCode: {r.DeviceCode}}
	if r.ClientID != "" {
		v.Set(ParamClientID, r.ClientID)
	}
	return v
}

// ParseDeviceTokenRequest reads a device access token form.
func ParseDeviceTokenRequest(v url.Values) (DeviceTokenRequest, error) {
	if err := single(v); err != nil {
		return DeviceTokenRequest{}, err
	}
	return DeviceTokenRequest{GrantType: v.Get(ParamGrantType), DeviceCode: v.Get(ParamDeviceCode),
		ClientID: v.Get(ParamClientID)}, nil
}

// Validate checks r; the error's code is the RFC 6749 one to answer.
func (r DeviceTokenRequest) Validate() *Error {
	switch {
	case r.GrantType == "":
		return &Error{Code: ErrInvalidRequest, Message: "grant_type is missing"}
	case r.GrantType != GrantTypeDeviceCode:
		return &Error{Code: ErrUnsupportedGrantType, Message: "grant_type must be " + GrantTypeDeviceCode}
	case r.DeviceCode == "" || len(r.DeviceCode) > MaxDeviceCode:
		return &Error{Code: ErrInvalidRequest, Message: "device_code is missing or too long"}
	case len(r.ClientID) > MaxClientID:
		return &Error{Code: ErrInvalidClient, Message: "client_id is too long"}
	}
	return nil
}

// single refuses a parameter sent more than once (RFC 6749 section 3.1).
func single(v url.Values) error {
	for k, vs := range v {
		if len(vs) > 1 {
			return fmt.Errorf("parameter %s is sent more than once", k)
		}
	}
	return nil
}

// DeviceTokenResponse is the successful token response (RFC 6749 section
// 5.1): the access token is the device credential, and the activation
// answer's fields travel beside it.
type DeviceTokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	// ExpiresIn is the lifetime in seconds of the lease in this answer; the
	// credential itself lasts until the computer is deactivated, and the
	// agent renews the lease by checking in with it.
	ExpiresIn    int    `json:"expires_in"`
	DeviceID     string `json:"device_id"`
	Lease        string `json:"lease"`
	Existing     bool   `json:"existing"`
	SeatsUsed    int    `json:"seats_used"`
	SeatsTotal   int    `json:"seats_total"`
	CheckinAfter int    `json:"checkin_after"`
}

// NewDeviceTokenResponse is the token response of an activation answer
// whose lease lasts expiresIn seconds.
func NewDeviceTokenResponse(a ActivateResponse, expiresIn int) DeviceTokenResponse {
	return DeviceTokenResponse{AccessToken: a.Credential, TokenType: TokenTypeBearer, ExpiresIn: expiresIn,
		DeviceID: a.DeviceID, Lease: a.Lease, Existing: a.Existing, SeatsUsed: a.SeatsUsed, SeatsTotal: a.SeatsTotal, CheckinAfter: a.CheckinAfter}
}

// Activation is the activation answer the token response carries.
func (r DeviceTokenResponse) Activation() ActivateResponse {
	return ActivateResponse{DeviceID: r.DeviceID, Credential: r.AccessToken, Lease: r.Lease, Existing: r.Existing,
		SeatsUsed: r.SeatsUsed, SeatsTotal: r.SeatsTotal, CheckinAfter: r.CheckinAfter}
}

// OAuthError is the error body of the device grant's endpoints (RFC 6749
// section 5.2).
type OAuthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}
