package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/commands"
)

// Commands is the part of *commands.Service the API uses.
type Commands interface {
	Enqueue(ctx context.Context, q commands.Queue) (commands.Record, error)
	List(ctx context.Context, deviceID string, req paging.Request) (paging.Page[commands.Record], error)
	EnqueueBulk(ctx context.Context, b commands.Bulk) (commands.BulkOutcome, error)
}

func (s *Server) registerCommands() {
	s.handle("POST "+accountapi.PathAccountDeviceCommands, s.queueAccountCommand)
	s.handle("GET "+accountapi.PathAccountDeviceCommands, s.listAccountCommands)
}

// ownDevice answers for the account's device named in the path, or writes
// the refusal.
func (s *Server) ownDevice(w http.ResponseWriter, r *http.Request) (accountID, deviceID string, ok bool) {
	acct, _, ok := s.account(w, r)
	if !ok {
		return "", "", false
	}
	id := r.PathValue("id")
	if !accountapi.ValidDeviceID(id) {
		writeError(w, apiError(protocol.ErrNotFound, "no such device"))
		return "", "", false
	}
	if err := s.d.Devices.CheckOwner(r.Context(), acct.ID, id); err != nil {
		s.failure(w, r, "device owner", err)
		return "", "", false
	}
	return acct.ID, id, true
}

// queueAccountCommand is an account owner sending a remote command to one
// of the computers on their licenses.
func (s *Server) queueAccountCommand(w http.ResponseWriter, r *http.Request) {
	accountID, deviceID, ok := s.ownDevice(w, r)
	if !ok {
		return
	}
	s.queueCommand(w, r, deviceID, "account:"+accountID, "")
}

func (s *Server) listAccountCommands(w http.ResponseWriter, r *http.Request) {
	_, deviceID, ok := s.ownDevice(w, r)
	if !ok {
		return
	}
	s.listCommands(w, r, deviceID)
}

// queueCommand queues the command of the request's body for deviceID, which
// the caller may command: the account routes' and the organization's.
func (s *Server) queueCommand(w http.ResponseWriter, r *http.Request, deviceID, actor, org string) {
	var req accountapi.CommandRequest
	if !decodeValid(w, r, &req) {
		return
	}
	rec, err := s.d.Commands.Enqueue(r.Context(), commands.Queue{DeviceID: deviceID, Type: req.Type, Args: req.Args,
		TTL: time.Duration(req.TTLSeconds) * time.Second, Actor: actor, Organization: org})
	if err != nil {
		s.failure(w, r, "queue command", err)
		return
	}
	if rec.Type == protocol.CmdDeactivate {
		// Freed at once; the nudge makes the computer learn it now.
		s.d.Streams.Notify(r.Context(), deviceID)
	}
	writeJSON(w, http.StatusCreated, commandJSON(rec))
}

// listCommands answers a page of deviceID's commands.
func (s *Server) listCommands(w http.ResponseWriter, r *http.Request, deviceID string) {
	servePage(s, w, r, "list commands", func(req paging.Request) (paging.Page[commands.Record], error) {
		return s.d.Commands.List(r.Context(), deviceID, req)
	}, commandJSON)
}

func commandJSON(r commands.Record) accountapi.CommandJSON { return r.JSON() }
