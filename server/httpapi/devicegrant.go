package httpapi

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi/httpmw"
)

// The browser sign-in's two endpoints speak the RFC 8628 device grant:
// form bodies in, JSON out, RFC 6749 section 5.2 errors.

// grantRetryAfter is the Retry-After of a refused start (seconds).
const grantRetryAfter = 60

// decodeForm reads an application/x-www-form-urlencoded body (bounded).
func decodeForm(w http.ResponseWriter, r *http.Request) (url.Values, *protocol.Error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, apiError(protocol.ErrInvalidRequest, "Content-Type must be application/x-www-form-urlencoded")
	}
	if r.ContentLength > protocol.MaxBodyBytes {
		return nil, apiError(protocol.ErrTooLarge, fmt.Sprintf("request body is over %d bytes", protocol.MaxBodyBytes))
	}
	r.Body = http.MaxBytesReader(w, r.Body, protocol.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		return nil, apiError(protocol.ErrInvalidRequest, "the body is not a valid form")
	}
	return r.PostForm, nil
}

// writeGrantError answers an RFC 6749 section 5.2 error: status 400 for
// the grant's errors, 429 (with Retry-After) for a refused start, 500 for
// an internal one; never cached.
func writeGrantError(w http.ResponseWriter, pe *protocol.Error, refusedStart bool) {
	status := http.StatusBadRequest
	switch {
	case refusedStart || pe.Code == protocol.ErrRateLimited:
		status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", strconv.Itoa(grantRetryAfter))
	case pe.Code == protocol.ErrInternal:
		status = http.StatusInternalServerError
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, protocol.OAuthError{Error: pe.Code, ErrorDescription: pe.Message})
}

func writeGrantJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) deviceAuthorize(w http.ResponseWriter, r *http.Request) {
	form, pe := decodeForm(w, r)
	if pe != nil {
		writeGrantError(w, pe, false)
		return
	}
	req, err := protocol.ParseDeviceAuthorizeRequest(form)
	if err == nil {
		err = req.Validate()
	}
	if err != nil {
		code := protocol.ErrInvalidRequest
		if req.Product == "" && form.Get(protocol.ParamClientID) == "" {
			code = protocol.ErrInvalidClient
		}
		writeGrantError(w, apiError(code, err.Error()), false)
		return
	}
	if pe := checkDevice(req.Fingerprint, req.Product, req.Device); pe != nil {
		writeGrantError(w, pe, false)
		return
	}
	resp, err := s.d.DeviceAuth.StartDeviceAuth(r.Context(), req, s.verify, httpmw.ClientIP(r.Context()))
	if err != nil {
		pe := s.toProtocol(r.Context(), "device authorize", err)
		writeGrantError(w, pe, pe.Code == protocol.ErrSlowDown)
		return
	}
	s.metrics.DeviceGrants.WithLabelValues("started").Inc()
	writeGrantJSON(w, resp)
}

func (s *Server) deviceToken(w http.ResponseWriter, r *http.Request) {
	form, pe := decodeForm(w, r)
	if pe != nil {
		writeGrantError(w, pe, false)
		return
	}
	req, err := protocol.ParseDeviceTokenRequest(form)
	if err != nil {
		writeGrantError(w, apiError(protocol.ErrInvalidRequest, err.Error()), false)
		return
	}
	if pe := req.Validate(); pe != nil {
		writeGrantError(w, pe, false)
		return
	}
	resp, err := s.d.DeviceAuth.PollDeviceToken(r.Context(), req)
	if err != nil {
		pe := s.toProtocol(r.Context(), "device token", err)
		switch pe.Code {
		case protocol.ErrAuthorizationPending, protocol.ErrSlowDown:
		default:
			s.metrics.DeviceGrants.WithLabelValues(pe.Code).Inc()
			if pe.Code == protocol.ErrNoSeats || pe.Code == protocol.ErrNoLicense {
				s.metrics.SeatDenials.Inc()
			}
		}
		writeGrantError(w, pe, false)
		return
	}
	s.metrics.DeviceGrants.WithLabelValues("ok").Inc()
	s.metrics.Activations.WithLabelValues("device", "ok").Inc()
	writeGrantJSON(w, resp)
}
