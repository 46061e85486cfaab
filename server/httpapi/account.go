package httpapi

import (
	"errors"
	"net/http"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/devices"
	"github.com/entitle/entitle/server/httpapi/httpmw"
	"github.com/entitle/entitle/server/licenses"
)

// Paths of the account API (package accountapi defines them).
const (
	PathSessions        = accountapi.PathSessions
	PathAccountLicenses = accountapi.PathAccountLicenses
	PathAccountDevices  = accountapi.PathAccountDevices
)

// LicenseView converts a license for JSON output.
func LicenseView(l licenses.License) accountapi.LicenseJSON {
	v := accountapi.LicenseJSON{
		ID: l.ID, Key: l.Key, OwnerEmail: l.OwnerEmail, Plan: l.Plan.Name, Features: l.Plan.Features,
		MaxProfiles: l.Plan.MaxProfiles, Seats: l.Seats, SeatsUsed: l.SeatsUsed, TermStart: l.TermStart,
		Subscription: l.Subscription, Suspended: l.Suspended, ManagementMode: l.ManagementMode, Created: l.Created,
		OrganizationID: l.OrganizationID, Revoked: timePtr(l.Revoked),
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
func DeviceView(d devices.Device) accountapi.DeviceJSON {
	return accountapi.DeviceJSON{
		ID: d.ID, LicenseID: d.LicenseID, Fingerprint: d.Fingerprint, Device: d.Facts,
		ActivatedAt: d.ActivatedAt, LastSeen: d.LastSeen, Active: d.Active, Profiles: d.Profiles,
	}
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	var req accountapi.SessionRequest
	if pe := decodeJSON(w, r, &req); pe != nil {
		writeError(w, pe)
		return
	}
	if err := req.Validate(); err != nil {
		writeError(w, validationError(err))
		return
	}
	acct, err := s.d.Accounts.Login(r.Context(), req.Email, req.Password, httpmw.ClientIP(r.Context()))
	if err != nil {
		s.failure(w, r, "login", err)
		return
	}
	tok, err := s.d.Accounts.NewSession(r.Context(), acct.ID)
	if err != nil {
		s.failure(w, r, "new session", err)
		return
	}
	writeJSON(w, http.StatusCreated, accountapi.SessionResponse{Token: tok, Account: accountapi.AccountJSON{ID: acct.ID, Email: acct.Email, Created: acct.Created}})
}

// account resolves the bearer session token; on failure it has already
// answered 401.
func (s *Server) account(w http.ResponseWriter, r *http.Request) (accounts.Account, string, bool) {
	tok, ok := bearer(r)
	if !ok {
		writeError(w, apiError(protocol.ErrInvalidCredentials, "missing or malformed session token"))
		return accounts.Account{}, "", false
	}
	acct, err := s.d.Accounts.SessionAccount(r.Context(), tok)
	if err != nil {
		s.failure(w, r, "session", err)
		return accounts.Account{}, "", false
	}
	return acct, tok, true
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	_, tok, ok := s.account(w, r)
	if !ok {
		return
	}
	if err := s.d.Accounts.EndSession(r.Context(), tok); err != nil {
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
	servePage(s, w, r, "list licenses", func(req paging.Request) (paging.Page[licenses.License], error) {
		return s.d.Licenses.PageLicenses(r.Context(), acct.ID, req)
	}, LicenseView)
}

func (s *Server) accountDevices(w http.ResponseWriter, r *http.Request) {
	acct, _, ok := s.account(w, r)
	if !ok {
		return
	}
	servePage(s, w, r, "list devices", func(req paging.Request) (paging.Page[devices.Device], error) {
		return s.d.Devices.PageDevices(r.Context(), acct.ID, req)
	}, DeviceView)
}

func (s *Server) releaseDevice(w http.ResponseWriter, r *http.Request) {
	acct, _, ok := s.account(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if !accountapi.ValidDeviceID(id) {
		writeError(w, apiError(protocol.ErrNotFound, "no such device"))
		return
	}
	if err := s.d.Devices.ReleaseDevice(r.Context(), acct.ID, id); err != nil {
		s.failure(w, r, "release device", err)
		return
	}
	// A computer online learns it at once (its push stream).
	s.d.Streams.Notify(r.Context(), id)
	w.WriteHeader(http.StatusNoContent)
}

// validationError is the answer to a request whose Validate failed: its
// *protocol.Error, else invalid_request with its text.
func validationError(err error) *protocol.Error {
	if pe, ok := errors.AsType[*protocol.Error](err); ok {
		return pe
	}
	return apiError(protocol.ErrInvalidRequest, err.Error())
}
