package adminapi

import (
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/protocol"
)

// Paths of an organization's computers and their remote commands.
const (
	PathOrgDevices        = PathOrg + "/devices"
	PathOrgDevice         = PathOrgDevices + "/{id}"
	PathOrgDeviceCommands = PathOrgDevice + "/commands"
	PathOrgCommands       = PathOrg + "/commands"
)

// Error codes of the organization's device routes.
const (
	// ErrIdempotencyReused: 409, the idempotency key of a bulk command
	// request was used before for another request.
	ErrIdempotencyReused = "idempotency_key_reused"
	// ErrTooManyDevices: 400, a bulk command's filter matches more than
	// MaxBulkDevices computers.
	ErrTooManyDevices = "too_many_devices"
)

// Bounds of the device routes.
const (
	MaxDeviceName     = 100 // characters of an administrator-set name
	MaxBulkDevices    = 500 // computers one bulk command request names
	MaxIdempotencyKey = 128
	MaxSearch         = 100
)

// Device statuses, as the organization's device list shows and filters them.
// online: active and seen within two check-in intervals; offline: active and
// not seen for longer; suspended: an administrator suspended it (it keeps
// its seat); deactivated: its seat is freed.
const (
	StatusOnline      = "online"
	StatusOffline     = "offline"
	StatusSuspended   = "suspended"
	StatusDeactivated = "deactivated"
)

// Sorts of the organization's device list.
const (
	SortLastSeen  = "last_seen"
	SortHostname  = "hostname"
	SortActivated = "activated"
	SortUser      = "user"
)

// DeviceFilter selects and orders an organization's computers (the query of
// GET /v1/orgs/{org}/devices, and the filter of a bulk command). Every field
// is optional. Search is a case-insensitive substring of the hostname, the
// administrator-set name or the user's email, evaluated over the
// organization's computers only.
type DeviceFilter struct {
	Status    string `json:"status,omitempty"`
	UserEmail string `json:"user_email,omitempty"`
	Workspace string `json:"workspace,omitempty"`
	Plan      string `json:"plan,omitempty"`
	Search    string `json:"search,omitempty"`
	Sort      string `json:"sort,omitempty"`  // default last_seen
	Order     string `json:"order,omitempty"` // asc or desc; default desc
}

// Validate checks the enumerations and bounds.
func (f DeviceFilter) Validate() error {
	switch f.Status {
	case "", StatusOnline, StatusOffline, StatusSuspended, StatusDeactivated:
	default:
		return invalid("status must be online, offline, suspended or deactivated")
	}
	switch f.Sort {
	case "", SortLastSeen, SortHostname, SortActivated, SortUser:
	default:
		return invalid("sort must be last_seen, hostname, activated or user")
	}
	if f.Order != "" && f.Order != "asc" && f.Order != "desc" {
		return invalid("order must be asc or desc")
	}
	if f.UserEmail != "" && !text(f.UserEmail, MaxEmail) {
		return invalid("user_email is at most 254 characters")
	}
	if f.Workspace != "" && !text(f.Workspace, 64) {
		return invalid("workspace is a workspace id")
	}
	if f.Plan != "" && !text(f.Plan, MaxName) {
		return invalid("plan is at most 200 characters")
	}
	if f.Search != "" && !text(f.Search, MaxSearch) {
		return invalid("search is at most 100 characters")
	}
	return nil
}

// DeviceFilterFromQuery reads the filter from a list's query and validates it.
func DeviceFilterFromQuery(q url.Values) (DeviceFilter, error) {
	f := DeviceFilter{Status: q.Get("status"), UserEmail: q.Get("user"), Workspace: q.Get("workspace"), Plan: q.Get("plan"),
		Search: q.Get("q"), Sort: q.Get("sort"), Order: q.Get("order")}
	return f, f.Validate()
}

// Query writes f into q (the client side of DeviceFilterFromQuery).
func (f DeviceFilter) Query(q url.Values) {
	for k, v := range map[string]string{"status": f.Status, "user": f.UserEmail, "workspace": f.Workspace, "plan": f.Plan,
		"q": f.Search, "sort": f.Sort, "order": f.Order} {
		if v != "" {
			q.Set(k, v)
		}
	}
}

// DeviceUserJSON is the member a computer's license is issued to.
type DeviceUserJSON struct {
	AccountID string `json:"account_id"`
	Email     string `json:"email"`
}

// OrgDeviceJSON is one of an organization's computers. Profiles (the
// inventory the agent reports) is in the answer of GET .../devices/{id} only.
type OrgDeviceJSON struct {
	ID            string                   `json:"id"`
	Name          string                   `json:"name"`
	Status        string                   `json:"status"`
	Facts         protocol.DeviceFacts     `json:"facts"`
	LicenseID     string                   `json:"license_id"`
	Plan          string                   `json:"plan"`
	User          DeviceUserJSON           `json:"user"`
	WorkspaceID   string                   `json:"workspace_id,omitempty"`
	WorkspaceName string                   `json:"workspace_name,omitempty"`
	Connected     bool                     `json:"connected"` // holds a push stream to the answering server instance
	ActivatedAt   time.Time                `json:"activated_at"`
	LastSeenAt    time.Time                `json:"last_seen_at"`
	SuspendedAt   *time.Time               `json:"suspended_at,omitempty"`
	DeactivatedAt *time.Time               `json:"deactivated_at,omitempty"`
	Profiles      *protocol.ProfileSummary `json:"profiles,omitempty"`
}

// RenameDeviceRequest is the body of PATCH /v1/orgs/{org}/devices/{id}: the
// display name; empty clears it (the hostname is shown).
type RenameDeviceRequest struct {
	Name *string `json:"name"`
}

// Validate checks the name: at most MaxDeviceName characters of printable
// UTF-8, without leading or trailing space.
func (r RenameDeviceRequest) Validate() error {
	if r.Name == nil {
		return invalid("name is required (empty clears it)")
	}
	n := *r.Name
	switch {
	case !utf8.ValidString(n) || utf8.RuneCountInString(n) > MaxDeviceName:
		return invalid("name is at most 100 characters")
	case strings.ContainsFunc(n, unicode.IsControl):
		return invalid("name must not contain control characters")
	case strings.TrimSpace(n) != n:
		return invalid("name must not start or end with spaces")
	}
	return nil
}

// BulkCommandRequest is the body of POST /v1/orgs/{org}/commands: one command
// for many computers, named by DeviceIDs or selected by Filter (exactly one
// of the two; at most MaxBulkDevices either way). A retry with the same
// IdempotencyKey answers the first request's results and queues nothing.
type BulkCommandRequest struct {
	DeviceIDs      []string          `json:"device_ids,omitempty"`
	Filter         *DeviceFilter     `json:"filter,omitempty"`
	Type           string            `json:"type"`
	Args           map[string]string `json:"args,omitempty"`
	TTLSeconds     int               `json:"ttl_seconds,omitempty"`
	IdempotencyKey string            `json:"idempotency_key"`
}

// Validate checks the selection, the command (as accountapi.CommandRequest)
// and the key.
func (r BulkCommandRequest) Validate() error {
	if (len(r.DeviceIDs) == 0) == (r.Filter == nil) {
		return invalid("name the computers with device_ids or select them with filter (one of the two)")
	}
	if len(r.DeviceIDs) > MaxBulkDevices {
		return invalid("device_ids names at most 500 computers")
	}
	seen := make(map[string]bool, len(r.DeviceIDs))
	for _, id := range r.DeviceIDs {
		if !accountapi.ValidDeviceID(id) {
			return invalid("device_ids holds an empty or too long id")
		}
		if seen[id] {
			return invalid("device_ids names " + id + " twice")
		}
		seen[id] = true
	}
	if r.Filter != nil {
		if err := r.Filter.Validate(); err != nil {
			return err
		}
	}
	if err := (accountapi.CommandRequest{Type: r.Type, Args: r.Args, TTLSeconds: r.TTLSeconds}).Validate(); err != nil {
		return err
	}
	if !text(r.IdempotencyKey, MaxIdempotencyKey) {
		return invalid("idempotency_key is required: 1 to 128 printable characters, the same on a retry")
	}
	return nil
}

// Outcomes of one computer in a bulk command request.
const (
	BulkQueued  = "queued"
	BulkRefused = "refused"
)

// BulkResultJSON is one computer's outcome: queued with its command, or
// refused with the error code (local_only, command_pending, device_revoked,
// not_found).
type BulkResultJSON struct {
	DeviceID  string `json:"device_id"`
	Outcome   string `json:"outcome"`
	CommandID string `json:"command_id,omitempty"`
	Code      string `json:"code,omitempty"`
}

// BulkCommandResponse answers a bulk command request. Replayed is true when
// the answer is the stored one of an earlier request with the same key.
type BulkCommandResponse struct {
	ID       string           `json:"id"`
	Type     string           `json:"type"`
	Queued   int              `json:"queued"`
	Refused  int              `json:"refused"`
	Results  []BulkResultJSON `json:"results"`
	Replayed bool             `json:"replayed"`
}
