package httpapi

import (
	"net/http"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi/httpmw"
	"github.com/entitle/entitle/server/licensing"
)

// Paths of the account API (for API clients; people use the web pages).
const (
	PathSessions        = "/v1/sessions"
	PathAccountLicenses = "/v1/account/licenses"
	PathAccountDevices  = "/v1/account/devices"
)

// SessionRequest is the body of POST /v1/sessions.
type SessionRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// SessionResponse returns the bearer token for the account API.
type SessionResponse struct {
	Token   string      `json:"token"`
	Account AccountJSON `json:"account"`
}

// AccountJSON is an account as the API shows it.
type AccountJSON struct {
	ID      string    `json:"id"`
	Email   string    `json:"email"`
	Created time.Time `json:"created"`
}

// LicenseJSON is a license as the API (and the CLI's --json) shows it. The
// key is included: only the license's owner (or an operator on the server
// machine) ever sees this view.
type LicenseJSON struct {
	ID           string     `json:"id"`
	Key          string     `json:"key"`
	OwnerEmail   string     `json:"owner_email"`
	Plan         string     `json:"plan"`
	Features     []string   `json:"features"`
	MaxProfiles  int        `json:"max_profiles"`
	Seats        int        `json:"seats"`
	SeatsUsed    int        `json:"seats_used"`
	TermStart    time.Time  `json:"term_start"`
	TermEnd      *time.Time `json:"term_end,omitempty"` // absent: no end
	Subscription bool       `json:"subscription"`
	Suspended    bool       `json:"suspended"`
	// ManagementMode is how an organization manages the license's computers:
	// "" (not managed), local_remote, local, or remote (they cannot deactivate
	// themselves).
	ManagementMode string    `json:"management_mode"`
	Created        time.Time `json:"created"`
}

// DeviceJSON is an activated computer as the account API shows it.
type DeviceJSON struct {
	ID          string                   `json:"id"`
	LicenseID   string                   `json:"license_id"`
	Fingerprint string                   `json:"fingerprint"`
	Device      protocol.DeviceFacts     `json:"device"`
	ActivatedAt time.Time                `json:"activated_at"`
	LastSeen    time.Time                `json:"last_seen"`
	Active      bool                     `json:"active"`
	Profiles    *protocol.ProfileSummary `json:"profiles,omitempty"`
}

// LicenseView converts a license for JSON output.
func LicenseView(l licensing.License) LicenseJSON {
	v := LicenseJSON{
		ID: l.ID, Key: l.Key, OwnerEmail: l.OwnerEmail, Plan: l.Plan.Name, Features: l.Plan.Features,
		MaxProfiles: l.Plan.MaxProfiles, Seats: l.Seats, SeatsUsed: l.SeatsUsed, TermStart: l.TermStart,
		Subscription: l.Subscription, Suspended: l.Suspended, ManagementMode: l.ManagementMode, Created: l.Created,
	}
	if v.Features == nil {
		v.Features = []string{}
	}
	if !l.TermEnd.IsZero() {
		te := l.TermEnd
		v.TermEnd = &te
	}
	return v
}

// DeviceView converts a device for JSON output.
func DeviceView(d licensing.Device) DeviceJSON {
	return DeviceJSON{
		ID: d.ID, LicenseID: d.LicenseID, Fingerprint: d.Fingerprint, Device: d.Facts,
		ActivatedAt: d.ActivatedAt, LastSeen: d.LastSeen, Active: d.Active, Profiles: d.Profiles,
	}
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	var req SessionRequest
	if pe := decodeJSON(w, r, &req); pe != nil {
		writeError(w, pe)
		return
	}
	if req.Email == "" || len(req.Email) > maxEmail || req.Password == "" || len(req.Password) > maxPassword {
		writeError(w, apiError(protocol.ErrInvalidRequest, "email and password are required"))
		return
	}
	acct, err := s.svc.Login(r.Context(), req.Email, req.Password, httpmw.ClientIP(r.Context()))
	if err != nil {
		s.failure(w, r, "login", err)
		return
	}
	tok, err := s.svc.NewSession(r.Context(), acct.ID)
	if err != nil {
		s.failure(w, r, "new session", err)
		return
	}
	writeJSON(w, http.StatusCreated, SessionResponse{Token: tok, Account: AccountJSON{ID: acct.ID, Email: acct.Email, Created: acct.Created}})
}

// account resolves the bearer session token; on failure it has already
// answered 401.
func (s *Server) account(w http.ResponseWriter, r *http.Request) (licensing.Account, string, bool) {
	tok, ok := bearer(r)
	if !ok {
		writeError(w, apiError(protocol.ErrInvalidCredentials, "missing or malformed session token"))
		return licensing.Account{}, "", false
	}
	acct, err := s.svc.SessionAccount(r.Context(), tok)
	if err != nil {
		s.failure(w, r, "session", err)
		return licensing.Account{}, "", false
	}
	return acct, tok, true
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	_, tok, ok := s.account(w, r)
	if !ok {
		return
	}
	if err := s.svc.EndSession(r.Context(), tok); err != nil {
		s.failure(w, r, "end session", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) accountLicenses(w http.ResponseWriter, r *http.Request) {
	acct, _, ok := s.account(w, r)
	if !ok {
		return
	}
	ls, err := s.svc.ListLicenses(r.Context(), acct.ID)
	if err != nil {
		s.failure(w, r, "list licenses", err)
		return
	}
	out := make([]LicenseJSON, 0, len(ls))
	for _, l := range ls {
		out = append(out, LicenseView(l))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) accountDevices(w http.ResponseWriter, r *http.Request) {
	acct, _, ok := s.account(w, r)
	if !ok {
		return
	}
	ds, err := s.svc.ListDevices(r.Context(), acct.ID)
	if err != nil {
		s.failure(w, r, "list devices", err)
		return
	}
	out := make([]DeviceJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, DeviceView(d))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) releaseDevice(w http.ResponseWriter, r *http.Request) {
	acct, _, ok := s.account(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if id == "" || len(id) > maxCode {
		writeError(w, apiError(protocol.ErrNotFound, "no such device"))
		return
	}
	if err := s.svc.ReleaseDevice(r.Context(), acct.ID, id); err != nil {
		s.failure(w, r, "release device", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
