package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/commands"
	"github.com/entitle/entitle/server/devices"
	"github.com/entitle/entitle/server/internal/fault"
)

// OrgDevices is the part of *devices.Service the organization's device
// routes use.
type OrgDevices interface {
	PageOrgDevices(ctx context.Context, orgID string, f adminapi.DeviceFilter, req paging.Request) (paging.Page[devices.OrgDevice], error)
	OrgDeviceIDs(ctx context.Context, orgID string, f adminapi.DeviceFilter, limit int) ([]string, int64, error)
	OrgDevice(ctx context.Context, orgID, deviceID string) (devices.OrgDevice, error)
	CheckOrg(ctx context.Context, orgID, deviceID string) error
	RenameOrgDevice(ctx context.Context, actor, orgID, deviceID, name string) (devices.OrgDevice, error)
	ReleaseOrgDevice(ctx context.Context, actor, orgID, deviceID string) error
}

// registerOrgDevices serves an organization's computers and their remote
// commands to its administrators.
func (s *Server) registerOrgDevices() {
	if s.d.Orgs == nil {
		return
	}
	s.handleAs("GET "+adminapi.PathOrgDevices, s.listOrgDevices)
	s.handleAs("GET "+adminapi.PathOrgDevice, s.getOrgDevice)
	s.handleAs("PATCH "+adminapi.PathOrgDevice, s.renameOrgDevice)
	s.handleAs("DELETE "+adminapi.PathOrgDevice, s.releaseOrgDevice)
	s.handleAs("GET "+adminapi.PathOrgDeviceCommands, s.listOrgDeviceCommands)
	s.handleAs("POST "+adminapi.PathOrgDeviceCommands, s.queueOrgDeviceCommand)
	s.handleAs("POST "+adminapi.PathOrgCommands, s.bulkOrgCommand)
}

func (s *Server) orgDeviceView(d devices.OrgDevice) adminapi.OrgDeviceJSON {
	return d.JSON(d.Active && s.d.Streams.DeviceConnected(d.ID))
}

func (s *Server) listOrgDevices(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
	f, err := adminapi.DeviceFilterFromQuery(r.URL.Query())
	if err != nil {
		writeError(w, validationError(err))
		return
	}
	servePage(s, w, r, "list organization devices", func(req paging.Request) (paging.Page[devices.OrgDevice], error) {
		return s.d.Devices.PageOrgDevices(r.Context(), r.PathValue("org"), f, req)
	}, func(d devices.OrgDevice) adminapi.OrgDeviceJSON {
		v := s.orgDeviceView(d)
		v.Profiles = nil // the inventory is in the device's own answer
		return v
	})
}

// orgDeviceID is the {id} of the path when it can name a device; otherwise
// it has answered not_found.
func orgDeviceID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !accountapi.ValidDeviceID(id) {
		writeError(w, apiError(protocol.ErrNotFound, "no such device"))
		return "", false
	}
	return id, true
}

func (s *Server) getOrgDevice(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
	id, ok := orgDeviceID(w, r)
	if !ok {
		return
	}
	d, err := s.d.Devices.OrgDevice(r.Context(), r.PathValue("org"), id)
	if err != nil {
		s.failure(w, r, "get organization device", err)
		return
	}
	writeJSON(w, http.StatusOK, s.orgDeviceView(d))
}

func (s *Server) renameOrgDevice(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	id, ok := orgDeviceID(w, r)
	if !ok {
		return
	}
	var req adminapi.RenameDeviceRequest
	if !decodeValid(w, r, &req) {
		return
	}
	d, err := s.d.Devices.RenameOrgDevice(r.Context(), p.Actor(), r.PathValue("org"), id, *req.Name)
	if err != nil {
		s.failure(w, r, "rename organization device", err)
		return
	}
	writeJSON(w, http.StatusOK, s.orgDeviceView(d))
}

// releaseOrgDevice frees the computer's seat; the nudge makes a connected
// computer learn it at once.
func (s *Server) releaseOrgDevice(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	id, ok := orgDeviceID(w, r)
	if !ok {
		return
	}
	if err := s.d.Devices.ReleaseOrgDevice(r.Context(), p.Actor(), r.PathValue("org"), id); err != nil {
		s.failure(w, r, "release organization device", err)
		return
	}
	s.d.Streams.Notify(r.Context(), id)
	w.WriteHeader(http.StatusNoContent)
}

// orgDevice is the organization's device named in the path, or the refusal
// written.
func (s *Server) orgDevice(w http.ResponseWriter, r *http.Request) (string, bool) {
	id, ok := orgDeviceID(w, r)
	if !ok {
		return "", false
	}
	if err := s.d.Devices.CheckOrg(r.Context(), r.PathValue("org"), id); err != nil {
		s.failure(w, r, "organization device", err)
		return "", false
	}
	return id, true
}

func (s *Server) listOrgDeviceCommands(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
	if id, ok := s.orgDevice(w, r); ok {
		s.listCommands(w, r, id)
	}
}

func (s *Server) queueOrgDeviceCommand(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	if id, ok := s.orgDevice(w, r); ok {
		s.queueCommand(w, r, id, p.Actor(), r.PathValue("org"))
	}
}

// bulkOrgCommand queues one command for many of the organization's
// computers: 201 with each computer's outcome, or 200 with the stored
// outcome when the idempotency key was seen before.
func (s *Server) bulkOrgCommand(w http.ResponseWriter, r *http.Request, p authz.Principal) {
	var req adminapi.BulkCommandRequest
	if !decodeValid(w, r, &req) {
		return
	}
	org := r.PathValue("org")
	b := commands.Bulk{Organization: org, Actor: p.Actor(), Key: req.IdempotencyKey, Type: req.Type, Args: req.Args,
		TTL: time.Duration(req.TTLSeconds) * time.Second, DeviceIDs: req.DeviceIDs}
	if req.Filter != nil {
		f := *req.Filter
		b.Selection = f
		b.Resolve = func(ctx context.Context) ([]string, error) {
			ids, total, err := s.d.Devices.OrgDeviceIDs(ctx, org, f, adminapi.MaxBulkDevices)
			if err != nil {
				return nil, err
			}
			if total > adminapi.MaxBulkDevices {
				return nil, fault.Errorf(adminapi.ErrTooManyDevices,
					"the filter selects %d computers, more than %d; narrow it, or send several requests", total, adminapi.MaxBulkDevices)
			}
			return ids, nil
		}
	}
	out, err := s.d.Commands.EnqueueBulk(r.Context(), b)
	if err != nil {
		s.failure(w, r, "bulk command", err)
		return
	}
	resp := adminapi.BulkCommandResponse{ID: out.ID, Type: out.Type, Results: make([]adminapi.BulkResultJSON, 0, len(out.Results)),
		Replayed: out.Replayed}
	for _, res := range out.Results {
		v := adminapi.BulkResultJSON{DeviceID: res.DeviceID, CommandID: res.CommandID, Code: res.Code, Outcome: adminapi.BulkQueued}
		if res.Code != "" {
			v.Outcome = adminapi.BulkRefused
			resp.Refused++
		} else {
			resp.Queued++
		}
		resp.Results = append(resp.Results, v)
	}
	status := http.StatusCreated
	if out.Replayed {
		status = http.StatusOK
	}
	writeJSON(w, status, resp)
}
