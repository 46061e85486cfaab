package httpapi

import (
	"context"
	"net/http"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/workspaces"
)

// Workspaces is the part of *workspaces.Service the API uses.
type Workspaces interface {
	Create(ctx context.Context, owner workspaces.Owner, req accountapi.WorkspaceRequest) (workspaces.Workspace, error)
	Get(ctx context.Context, owner workspaces.Owner, id string) (workspaces.Workspace, error)
	List(ctx context.Context, owner workspaces.Owner, req paging.Request) (paging.Page[workspaces.Workspace], error)
	Update(ctx context.Context, owner workspaces.Owner, id string, req accountapi.WorkspaceRequest) (workspaces.Workspace, error)
	Delete(ctx context.Context, owner workspaces.Owner, id string) error
	Suggest(ctx context.Context, owner workspaces.Owner, base string) (string, error)
	CreateToken(ctx context.Context, owner workspaces.Owner, workspaceID string, req accountapi.EnrollmentTokenRequest) (workspaces.Token, error)
	Tokens(ctx context.Context, owner workspaces.Owner, workspaceID string) ([]workspaces.Token, error)
	RevokeToken(ctx context.Context, owner workspaces.Owner, workspaceID, tokenID string) error
}

func (s *Server) registerWorkspaces() {
	s.handle("GET "+accountapi.PathWorkspaces, s.listWorkspaces)
	s.handle("POST "+accountapi.PathWorkspaces, s.createWorkspace)
	s.handle("GET "+accountapi.PathWorkspaceSuggest, s.suggestWorkspace)
	s.handle("GET "+accountapi.PathWorkspace, s.getWorkspace)
	s.handle("PATCH "+accountapi.PathWorkspace, s.updateWorkspace)
	s.handle("DELETE "+accountapi.PathWorkspace, s.deleteWorkspace)
	s.handle("GET "+accountapi.PathWorkspaceTokens, s.listEnrollmentTokens)
	s.handle("POST "+accountapi.PathWorkspaceTokens, s.createEnrollmentToken)
	s.handle("DELETE "+accountapi.PathWorkspaceToken, s.revokeEnrollmentToken)
}

func (s *Server) workspaceOwner(w http.ResponseWriter, r *http.Request) (workspaces.Owner, bool) {
	acct, _, ok := s.account(w, r)
	if !ok {
		return workspaces.Owner{}, false
	}
	return workspaces.Owner{AccountID: acct.ID}, true
}

func workspaceJSON(ws workspaces.Workspace) accountapi.WorkspaceJSON {
	out := accountapi.WorkspaceJSON{ID: ws.ID, Name: ws.Name, ManagementMode: ws.ManagementMode, ReclaimAfterDays: ws.ReclaimAfterDays,
		LicenseID: ws.License.ID, LicenseKey: ws.License.Key, Plan: ws.License.Plan.Name, AutoRenew: ws.License.Subscription,
		Seats: ws.License.Seats, SeatsUsed: ws.License.SeatsUsed, Created: ws.Created}
	if !ws.License.TermEnd.IsZero() {
		t := ws.License.TermEnd
		out.TermEnd = &t
	}
	return out
}

func tokenJSON(t workspaces.Token) accountapi.EnrollmentTokenJSON {
	return accountapi.EnrollmentTokenJSON{ID: t.ID, Token: t.Secret, Label: t.Label, MaxUses: t.MaxUses, Uses: t.Uses,
		ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt, Created: t.Created}
}

func (s *Server) listWorkspaces(w http.ResponseWriter, r *http.Request) {
	owner, ok := s.workspaceOwner(w, r)
	if !ok {
		return
	}
	servePage(s, w, r, "list workspaces", func(req paging.Request) (paging.Page[workspaces.Workspace], error) {
		return s.d.Workspaces.List(r.Context(), owner, req)
	}, workspaceJSON)
}

func (s *Server) writeWorkspace(w http.ResponseWriter, r *http.Request, create bool) {
	owner, ok := s.workspaceOwner(w, r)
	if !ok {
		return
	}
	var req accountapi.WorkspaceRequest
	if pe := decodeJSON(w, r, &req); pe != nil {
		writeError(w, pe)
		return
	}
	if err := req.Validate(create); err != nil {
		writeError(w, validationError(err))
		return
	}
	var (
		ws  workspaces.Workspace
		err error
	)
	status := http.StatusOK
	if create {
		ws, err = s.d.Workspaces.Create(r.Context(), owner, req)
		status = http.StatusCreated
	} else {
		ws, err = s.d.Workspaces.Update(r.Context(), owner, r.PathValue("id"), req)
	}
	if err != nil {
		s.failure(w, r, "write workspace", err)
		return
	}
	writeJSON(w, status, workspaceJSON(ws))
}

func (s *Server) createWorkspace(w http.ResponseWriter, r *http.Request) {
	s.writeWorkspace(w, r, true)
}
func (s *Server) updateWorkspace(w http.ResponseWriter, r *http.Request) {
	s.writeWorkspace(w, r, false)
}

func (s *Server) getWorkspace(w http.ResponseWriter, r *http.Request) {
	owner, ok := s.workspaceOwner(w, r)
	if !ok {
		return
	}
	ws, err := s.d.Workspaces.Get(r.Context(), owner, r.PathValue("id"))
	if err != nil {
		s.failure(w, r, "get workspace", err)
		return
	}
	writeJSON(w, http.StatusOK, workspaceJSON(ws))
}

func (s *Server) deleteWorkspace(w http.ResponseWriter, r *http.Request) {
	owner, ok := s.workspaceOwner(w, r)
	if !ok {
		return
	}
	if err := s.d.Workspaces.Delete(r.Context(), owner, r.PathValue("id")); err != nil {
		s.failure(w, r, "delete workspace", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) suggestWorkspace(w http.ResponseWriter, r *http.Request) {
	owner, ok := s.workspaceOwner(w, r)
	if !ok {
		return
	}
	name, err := s.d.Workspaces.Suggest(r.Context(), owner, r.URL.Query().Get("base"))
	if err != nil {
		s.failure(w, r, "suggest workspace", err)
		return
	}
	writeJSON(w, http.StatusOK, accountapi.SuggestionJSON{Name: name})
}

func (s *Server) listEnrollmentTokens(w http.ResponseWriter, r *http.Request) {
	owner, ok := s.workspaceOwner(w, r)
	if !ok {
		return
	}
	list, err := s.d.Workspaces.Tokens(r.Context(), owner, r.PathValue("id"))
	if err != nil {
		s.failure(w, r, "list enrollment tokens", err)
		return
	}
	writeJSON(w, http.StatusOK, paging.Map(paging.Page[workspaces.Token]{Items: list, Total: int64(len(list))}, tokenJSON))
}

func (s *Server) createEnrollmentToken(w http.ResponseWriter, r *http.Request) {
	owner, ok := s.workspaceOwner(w, r)
	if !ok {
		return
	}
	var req accountapi.EnrollmentTokenRequest
	if pe := decodeJSON(w, r, &req); pe != nil {
		writeError(w, pe)
		return
	}
	if err := req.Validate(); err != nil {
		writeError(w, validationError(err))
		return
	}
	t, err := s.d.Workspaces.CreateToken(r.Context(), owner, r.PathValue("id"), req)
	if err != nil {
		s.failure(w, r, "create enrollment token", err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, tokenJSON(t))
}

func (s *Server) revokeEnrollmentToken(w http.ResponseWriter, r *http.Request) {
	owner, ok := s.workspaceOwner(w, r)
	if !ok {
		return
	}
	if err := s.d.Workspaces.RevokeToken(r.Context(), owner, r.PathValue("id"), r.PathValue("token")); err != nil {
		s.failure(w, r, "revoke enrollment token", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
