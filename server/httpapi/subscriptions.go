package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/subscriptions"
)

// Subscriptions is the part of *subscriptions.Service the API uses.
type Subscriptions interface {
	List(ctx context.Context, orgID string, req paging.Request) (paging.Page[subscriptions.Subscription], error)
	Get(ctx context.Context, orgID, subID string) (subscriptions.Subscription, error)
	Change(ctx context.Context, p authz.Principal, orgID, subID string, c subscriptions.Change) (subscriptions.Subscription, error)
	Assignments(ctx context.Context, orgID, subID string, req paging.Request) (paging.Page[licenses.License], error)
	Assign(ctx context.Context, p authz.Principal, orgID, subID, accountID string) (licenses.License, bool, error)
	Unassign(ctx context.Context, p authz.Principal, orgID, subID, accountID string) error
	Suspend(ctx context.Context, p authz.Principal, subID, reason string) (subscriptions.Subscription, error)
	Resume(ctx context.Context, p authz.Principal, subID string) (subscriptions.Subscription, error)
	Extend(ctx context.Context, p authz.Principal, subID string, termEnd time.Time) (subscriptions.Subscription, error)
}

// registerSubscriptions serves an organization's subscriptions and seat
// assignments, and the operator's lifecycle actions.
func (s *Server) registerSubscriptions() {
	if s.d.Subscriptions == nil || s.d.Orgs == nil {
		return
	}
	s.handleAs("GET "+adminapi.PathSubscriptions, s.listSubscriptions)
	s.handleAs("GET "+adminapi.PathSubscription, s.getSubscription)
	s.handleAs("PATCH "+adminapi.PathSubscription, s.updateSubscription)
	s.handleAs("GET "+adminapi.PathAssignments, s.listAssignments)
	s.handleAs("POST "+adminapi.PathAssignments, s.assign)
	s.handleAs("DELETE "+adminapi.PathAssignment, s.unassign)
	s.handleAs("PATCH "+adminapi.PathOperatorSubscription, s.operatorUpdateSubscription)
	s.handleAs("POST "+adminapi.PathOperatorSubSuspend, s.suspendSubscription)
	s.handleAs("POST "+adminapi.PathOperatorSubResume, s.resumeSubscription)
	s.handleAs("POST "+adminapi.PathOperatorSubExtend, s.extendSubscription)
}

// SubscriptionView is a subscription on the wire (the API and the CLI).
func SubscriptionView(x subscriptions.Subscription) adminapi.SubscriptionJSON {
	return adminapi.SubscriptionJSON{ID: x.ID, OrganizationID: x.OrganizationID, PlanID: x.PlanID, PlanCode: x.PlanCode, PlanName: x.PlanName,
		Seats: x.Seats, Assigned: x.Assigned, TermMonths: x.TermMonths, TermStart: x.TermStart, TermEnd: x.TermEnd, AutoRenew: x.AutoRenew,
		Suspended: timePtr(x.Suspended), RenewalOrderID: x.RenewalOrderID, Created: x.Created}
}

func assignmentView(l licenses.License) adminapi.AssignmentJSON {
	return adminapi.AssignmentJSON{AccountID: l.OwnerAccountID, Email: l.OwnerEmail, LicenseID: l.ID, Plan: l.Plan.Name,
		Devices: l.Seats, DevicesOn: l.SeatsUsed, TermEnd: l.TermEnd, Created: l.Created}
}

func subscriptionChange(req adminapi.UpdateSubscriptionRequest) subscriptions.Change {
	return subscriptions.Change{AutoRenew: req.AutoRenew, Seats: req.Seats, PlanID: req.PlanID, TermMonths: req.TermMonths}
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
	req, ok := pageRequest(w, r)
	if !ok {
		return
	}
	page, err := s.d.Subscriptions.List(r.Context(), r.PathValue("org"), req)
	if err != nil {
		s.failure(w, r, "list subscriptions", err)
		return
	}
	writeJSON(w, http.StatusOK, mapPage(page, SubscriptionView))
}

func (s *Server) getSubscription(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
	x, err := s.d.Subscriptions.Get(r.Context(), r.PathValue("org"), r.PathValue("sub"))
	if err != nil {
		s.failure(w, r, "get subscription", err)
		return
	}
	writeJSON(w, http.StatusOK, SubscriptionView(x))
}

func (s *Server) updateSubscription(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.UpdateSubscriptionRequest
	if !decodeValid(w, r, &req) {
		return
	}
	// Under an organization's path, the operator acts as its admin would
	// (the service's rule for a non-empty organization); its own changes go
	// through /v1/operator/subscriptions/{sub}.
	x, err := s.d.Subscriptions.Change(r.Context(), p, r.PathValue("org"), r.PathValue("sub"), subscriptionChange(req))
	if err != nil {
		s.failure(w, r, "change subscription", err)
		return
	}
	writeJSON(w, http.StatusOK, SubscriptionView(x))
}

func (s *Server) listAssignments(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
	req, ok := pageRequest(w, r)
	if !ok {
		return
	}
	page, err := s.d.Subscriptions.Assignments(r.Context(), r.PathValue("org"), r.PathValue("sub"), req)
	if err != nil {
		s.failure(w, r, "list assignments", err)
		return
	}
	writeJSON(w, http.StatusOK, mapPage(page, assignmentView))
}

func (s *Server) assign(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.AssignRequest
	if !decodeValid(w, r, &req) {
		return
	}
	account := req.AccountID
	if req.Email != "" {
		id, err := s.d.Orgs.AccountIDByEmail(r.Context(), req.Email)
		if err != nil {
			s.failure(w, r, "find member", err)
			return
		}
		account = id
	}
	lic, created, err := s.d.Subscriptions.Assign(r.Context(), p, r.PathValue("org"), r.PathValue("sub"), account)
	if err != nil {
		s.failure(w, r, "assign seat", err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, assignmentView(lic))
}

func (s *Server) unassign(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	if err := s.d.Subscriptions.Unassign(r.Context(), p, r.PathValue("org"), r.PathValue("sub"), r.PathValue("account")); err != nil {
		s.failure(w, r, "release seat", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) operatorUpdateSubscription(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.UpdateSubscriptionRequest
	if !decodeValid(w, r, &req) {
		return
	}
	x, err := s.d.Subscriptions.Change(r.Context(), p, "", r.PathValue("sub"), subscriptionChange(req))
	if err != nil {
		s.failure(w, r, "change subscription", err)
		return
	}
	writeJSON(w, http.StatusOK, SubscriptionView(x))
}

func (s *Server) suspendSubscription(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.SuspendRequest
	if !decodeValid(w, r, &req) {
		return
	}
	x, err := s.d.Subscriptions.Suspend(r.Context(), p, r.PathValue("sub"), req.Reason)
	if err != nil {
		s.failure(w, r, "suspend subscription", err)
		return
	}
	writeJSON(w, http.StatusOK, SubscriptionView(x))
}

func (s *Server) resumeSubscription(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	x, err := s.d.Subscriptions.Resume(r.Context(), p, r.PathValue("sub"))
	if err != nil {
		s.failure(w, r, "resume subscription", err)
		return
	}
	writeJSON(w, http.StatusOK, SubscriptionView(x))
}

func (s *Server) extendSubscription(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.ExtendRequest
	if !decodeValid(w, r, &req) {
		return
	}
	x, err := s.d.Subscriptions.Extend(r.Context(), p, r.PathValue("sub"), req.TermEnd)
	if err != nil {
		s.failure(w, r, "extend subscription", err)
		return
	}
	writeJSON(w, http.StatusOK, SubscriptionView(x))
}
