package httpapi

import (
	"net/http"
	"strconv"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi/httpmw"
)

// Field bounds. The body limit already caps the total; these keep single
// fields to sizes a database column and a web page can hold.
const (
	maxEmail    = 254
	maxPassword = 1024
	maxKey      = 128
	maxFact     = 256
	maxProduct  = 128
	maxCode     = 128
)

func checkFacts(d protocol.DeviceFacts) *protocol.Error {
	for name, v := range map[string]string{"device.hostname": d.Hostname, "device.os": d.OS, "device.arch": d.Arch, "device.agent_version": d.AgentVersion} {
		if len(v) > maxFact {
			return apiError(protocol.ErrInvalidRequest, name+" is too long")
		}
	}
	return nil
}

func checkDevice(fingerprint, product string, facts protocol.DeviceFacts) *protocol.Error {
	if !lease.ValidFingerprint(fingerprint) {
		return apiError(protocol.ErrInvalidRequest, "fingerprint must be 64 lowercase hex characters")
	}
	if product == "" || len(product) > maxProduct {
		return apiError(protocol.ErrInvalidRequest, "product is missing or too long")
	}
	return checkFacts(facts)
}

func checkActivate(req *protocol.ActivateRequest) *protocol.Error {
	switch req.Method {
	case protocol.MethodLicenseKey:
		if req.LicenseKey == "" || len(req.LicenseKey) > maxKey {
			return apiError(protocol.ErrInvalidRequest, "license_key is missing or too long")
		}
	case protocol.MethodPassword:
		if req.Email == "" || len(req.Email) > maxEmail || req.Password == "" || len(req.Password) > maxPassword {
			return apiError(protocol.ErrInvalidRequest, "email and password are required")
		}
	case protocol.MethodEnrollment:
		if req.EnrollmentToken == "" || len(req.EnrollmentToken) > maxKey {
			return apiError(protocol.ErrInvalidRequest, "enrollment_token is missing or too long")
		}
	default:
		return apiError(protocol.ErrInvalidRequest, `method must be "license_key", "password" or "enrollment_token"`)
	}
	return checkDevice(req.Fingerprint, req.Product, req.Device)
}

func (s *Server) activate(w http.ResponseWriter, r *http.Request) {
	var req protocol.ActivateRequest
	if pe := decodeJSON(w, r, &req); pe != nil {
		writeError(w, pe)
		return
	}
	method := req.Method
	if method != protocol.MethodLicenseKey && method != protocol.MethodPassword && method != protocol.MethodEnrollment {
		method = "invalid"
	}
	if pe := checkActivate(&req); pe != nil {
		s.countActivation(method, pe.Code)
		writeError(w, pe)
		return
	}
	resp, err := s.d.Devices.Activate(r.Context(), req, httpmw.ClientIP(r.Context()))
	if err != nil {
		pe := s.toProtocol(r.Context(), "activate", err)
		s.countActivation(method, pe.Code)
		writeError(w, pe)
		return
	}
	s.countActivation(method, "ok")
	status := http.StatusCreated
	if resp.Existing {
		status = http.StatusOK
	}
	writeJSON(w, status, resp)
}

func (s *Server) countActivation(method, result string) {
	s.metrics.Activations.WithLabelValues(method, result).Inc()
	if result == protocol.ErrNoSeats || result == protocol.ErrNoLicense {
		s.metrics.SeatDenials.Inc()
	}
}

func (s *Server) checkin(w http.ResponseWriter, r *http.Request) {
	cred, ok := bearer(r)
	if !ok {
		s.metrics.Checkins.WithLabelValues(protocol.ErrInvalidCredentials).Inc()
		writeError(w, apiError(protocol.ErrInvalidCredentials, "missing or malformed device credential"))
		return
	}
	var req protocol.CheckinRequest
	if pe := decodeJSON(w, r, &req); pe != nil {
		writeError(w, pe)
		return
	}
	if !lease.ValidFingerprint(req.Fingerprint) {
		writeError(w, apiError(protocol.ErrInvalidRequest, "fingerprint must be 64 lowercase hex characters"))
		return
	}
	if pe := checkFacts(req.Device); pe != nil {
		writeError(w, pe)
		return
	}
	if len(req.CommandResults) > protocol.MaxCommandResults {
		writeError(w, apiError(protocol.ErrInvalidRequest, "too many command results"))
		return
	}
	for _, res := range req.CommandResults {
		if err := res.Validate(); err != nil {
			writeError(w, apiError(protocol.ErrInvalidRequest, err.Error()))
			return
		}
	}
	resp, err := s.d.Devices.Checkin(r.Context(), cred, req)
	if err != nil {
		pe := s.toProtocol(r.Context(), "checkin", err)
		s.metrics.Checkins.WithLabelValues(pe.Code).Inc()
		writeError(w, pe)
		return
	}
	if resp.Commands == nil {
		resp.Commands = []protocol.Command{}
	}
	s.checkinsOK.Inc()
	writeCheckin(w, resp)
}

// writeCheckin is writeJSON for a check-in answer. The answer of nearly
// every check-in (no commands) is written directly: the lease is a compact
// JWS (base64url and dots), which JSON carries as is, so the bytes are
// json.Marshal's, without its reflection.
func writeCheckin(w http.ResponseWriter, resp protocol.CheckinResponse) {
	if len(resp.Commands) > 0 || !jsonSafe(resp.Lease) {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	b := make([]byte, 0, len(resp.Lease)+48)
	b = append(b, `{"lease":"`...)
	b = append(b, resp.Lease...)
	b = append(b, `","commands":[],"checkin_after":`...)
	b = strconv.AppendInt(b, int64(resp.CheckinAfter), 10)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// jsonSafe reports whether s is made only of characters JSON (and
// json.Marshal's HTML escaping) writes unchanged: letters, digits, '-', '_'
// and '.'.
func jsonSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

func (s *Server) deactivateSelf(w http.ResponseWriter, r *http.Request) {
	cred, ok := bearer(r)
	if !ok {
		writeError(w, apiError(protocol.ErrInvalidCredentials, "missing or malformed device credential"))
		return
	}
	if err := s.d.Devices.DeactivateSelf(r.Context(), cred); err != nil {
		s.failure(w, r, "deactivate", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
