package devices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/store"
)

// OrgDevice is one of an organization's computers, as its administrators see
// it: the device, who its license is issued to, its plan and workspace.
type OrgDevice struct {
	Device
	Name, AccountID, Email, Plan string
	WorkspaceID, WorkspaceName   string
	Status                       string // adminapi.Status*
	SuspendedAt, DeactivatedAt   time.Time
}

// JSON is the device as the organization API and the server CLI show it;
// connected says whether it holds a push stream to this server instance.
func (d OrgDevice) JSON(connected bool) adminapi.OrgDeviceJSON {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return adminapi.OrgDeviceJSON{ID: d.ID, Name: d.Name, Status: d.Status, Facts: d.Facts, LicenseID: d.LicenseID, Plan: d.Plan,
		User: adminapi.DeviceUserJSON{AccountID: d.AccountID, Email: d.Email}, WorkspaceID: d.WorkspaceID, WorkspaceName: d.WorkspaceName,
		Connected: connected, ActivatedAt: d.ActivatedAt, LastSeenAt: d.LastSeen, SuspendedAt: opt(d.SuspendedAt),
		DeactivatedAt: opt(d.DeactivatedAt), Profiles: d.Profiles}
}

// The organization's device list reads devices by devices.organization_id
// (copied from the license at activation), so the indexes
// devices_org_{last_seen,activated} (organization_id, column, id) serve both
// the filter and the order: a page of those sorts walks the index from the
// cursor and stops after a page. The hostname sort (no index: check-ins
// write the column) and the user sort (the license owner's email) sort the
// organization's computers, bounded by the organization, not the table.
const orgDeviceCols = `SELECT d.id, d.license_id, l.license_key, d.fingerprint, d.hostname, d.os, d.arch, d.agent_version,
	d.activated_at, d.last_seen_at, d.deactivated_at, %s, d.name, d.suspended_at, a.id, a.email, l.plan,
	COALESCE(w.id, ''), COALESCE(w.name, '')`

const orgDeviceFrom = ` FROM devices d JOIN licenses l ON l.id = d.license_id JOIN accounts a ON a.id = l.owner_account_id
	LEFT JOIN workspaces w ON w.license_id = d.license_id WHERE d.organization_id = ?`

// countFrom is the FROM of the count: only the joins f's conditions need,
// so the unfiltered count reads the organization's index alone.
func countFrom(f adminapi.DeviceFilter) string {
	from := " FROM devices d"
	if f.Plan != "" || f.UserEmail != "" || f.Search != "" {
		from += " JOIN licenses l ON l.id = d.license_id"
	}
	if f.UserEmail != "" || f.Search != "" {
		from += " JOIN accounts a ON a.id = l.owner_account_id"
	}
	if f.Workspace != "" {
		from += " JOIN workspaces w ON w.license_id = d.license_id"
	}
	return from + " WHERE d.organization_id = ?"
}

// orgSortColumn is the column of each sort; numeric ones are milliseconds.
var orgSortColumn = map[string]struct {
	col     string
	numeric bool
}{
	adminapi.SortLastSeen:  {"d.last_seen_at", true},
	adminapi.SortHostname:  {"d.hostname", false},
	adminapi.SortActivated: {"d.activated_at", true},
	adminapi.SortUser:      {"a.email", false},
}

// onlineWindow is how recently a device must have checked in to be online:
// two check-in intervals.
func (s *Service) onlineWindow() time.Duration {
	return 2 * time.Duration(s.signing.CheckinAfter()) * time.Second
}

// orgWhere is the filter's conditions (after the organization's) and their
// arguments.
func (s *Service) orgWhere(f adminapi.DeviceFilter) (string, []any) {
	var (
		b    strings.Builder
		args []any
	)
	cutoff := store.Millis(s.now().Add(-s.onlineWindow()))
	switch f.Status {
	case adminapi.StatusOnline:
		b.WriteString(" AND d.deactivated_at IS NULL AND d.suspended_at IS NULL AND d.last_seen_at >= ?")
		args = append(args, cutoff)
	case adminapi.StatusOffline:
		b.WriteString(" AND d.deactivated_at IS NULL AND d.suspended_at IS NULL AND d.last_seen_at < ?")
		args = append(args, cutoff)
	case adminapi.StatusSuspended:
		b.WriteString(" AND d.deactivated_at IS NULL AND d.suspended_at IS NOT NULL")
	case adminapi.StatusDeactivated:
		b.WriteString(" AND d.deactivated_at IS NOT NULL")
	}
	if f.UserEmail != "" {
		b.WriteString(" AND lower(a.email) = ?")
		args = append(args, strings.ToLower(f.UserEmail))
	}
	if f.Workspace != "" {
		b.WriteString(" AND w.id = ?")
		args = append(args, f.Workspace)
	}
	if f.Plan != "" {
		b.WriteString(" AND l.plan = ?")
		args = append(args, f.Plan)
	}
	if f.Search != "" {
		pat := "%" + likeEscape(strings.ToLower(f.Search)) + "%"
		b.WriteString(` AND (lower(d.hostname) LIKE ? ESCAPE '!' OR lower(d.name) LIKE ? ESCAPE '!' OR lower(a.email) LIKE ? ESCAPE '!')`)
		args = append(args, pat, pat, pat)
	}
	return b.String(), args
}

func likeEscape(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// PageOrgDevices returns one page of an organization's computers matching f,
// in f's order (last seen, newest first, by default; ties by id), with the
// total matching. The keyset cursor names the sort, its direction and the
// last device shown, so a cursor of another order is refused.
func (s *Service) PageOrgDevices(ctx context.Context, orgID string, f adminapi.DeviceFilter, req paging.Request) (paging.Page[OrgDevice], error) {
	if orgID == "" {
		return paging.Page[OrgDevice]{}, invalid("no organization")
	}
	if err := f.Validate(); err != nil {
		return paging.Page[OrgDevice]{}, invalid("%s", protocolMessage(err))
	}
	if err := req.Validate(); err != nil {
		return paging.Page[OrgDevice]{}, invalid("%s", err.Error())
	}
	sortBy, order := f.Sort, f.Order
	if sortBy == "" {
		sortBy = adminapi.SortLastSeen
	}
	if order == "" {
		order = "desc"
	}
	sc := orgSortColumn[sortBy]
	key, err := paging.Decode(req.Cursor, 4)
	if err != nil {
		return paging.Page[OrgDevice]{}, invalid("%s", err.Error())
	}
	where, args := s.orgWhere(f)
	args = append([]any{orgID}, args...)
	var total int64
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*)"+countFrom(f)+where, args...).Scan(&total); err != nil {
		return paging.Page[OrgDevice]{}, fmt.Errorf("count organization devices: %w", err)
	}
	q := fmt.Sprintf(orgDeviceCols, "NULL") + orgDeviceFrom + where
	cmp := "<"
	if order == "asc" {
		cmp = ">"
	}
	if key != nil {
		if key[0] != sortBy || key[1] != order {
			return paging.Page[OrgDevice]{}, invalid("%s", paging.ErrCursor.Error())
		}
		var v any = key[2]
		if sc.numeric {
			n, err := strconv.ParseInt(key[2], 10, 64)
			if err != nil {
				return paging.Page[OrgDevice]{}, invalid("%s", paging.ErrCursor.Error())
			}
			v = n
		}
		// A row value, so both databases seek the index to the cursor.
		q += fmt.Sprintf(" AND (%s, d.id) %s (?, ?)", sc.col, cmp)
		args = append(args, v, key[3])
	}
	n := req.Size()
	q += fmt.Sprintf(" ORDER BY %[1]s %[2]s, d.id %[2]s LIMIT %[3]d", sc.col, order, n+1)
	rows, err := s.queryOrgDevices(ctx, q, args...)
	if err != nil {
		return paging.Page[OrgDevice]{}, fmt.Errorf("page organization devices: %w", err)
	}
	return paging.Trim(rows, n, total, func(d OrgDevice) []string {
		var v string
		switch sortBy {
		case adminapi.SortLastSeen:
			v = strconv.FormatInt(store.Millis(d.LastSeen), 10)
		case adminapi.SortActivated:
			v = strconv.FormatInt(store.Millis(d.ActivatedAt), 10)
		case adminapi.SortHostname:
			v = d.Facts.Hostname
		case adminapi.SortUser:
			v = d.Email
		}
		return []string{sortBy, order, v, d.ID}
	}), nil
}

// OrgDeviceIDs returns the ids of the first limit (at most
// paging.MaxLimit) organization computers matching f, in f's order, and how
// many match in all (a caller refuses a selection larger than it takes).
func (s *Service) OrgDeviceIDs(ctx context.Context, orgID string, f adminapi.DeviceFilter, limit int) ([]string, int64, error) {
	p, err := s.PageOrgDevices(ctx, orgID, f, paging.Request{Limit: min(limit, paging.MaxLimit)})
	if err != nil {
		return nil, 0, err
	}
	ids := make([]string, 0, len(p.Items))
	for _, d := range p.Items {
		ids = append(ids, d.ID)
	}
	return ids, p.Total, nil
}

// OrgDevice returns one of the organization's computers with its inventory
// (the profiles its agent reports). A device of another organization is
// not_found, as one that does not exist.
func (s *Service) OrgDevice(ctx context.Context, orgID, deviceID string) (OrgDevice, error) {
	if err := check.Secret("device id", deviceID); err != nil {
		return OrgDevice{}, err
	}
	if orgID == "" {
		return OrgDevice{}, errNoOrgDevice(deviceID)
	}
	list, err := s.queryOrgDevices(ctx, fmt.Sprintf(orgDeviceCols, "d.profiles")+orgDeviceFrom+" AND d.id = ?", orgID, deviceID)
	if err != nil {
		return OrgDevice{}, fmt.Errorf("read organization device: %w", err)
	}
	if len(list) == 0 {
		return OrgDevice{}, errNoOrgDevice(deviceID)
	}
	return list[0], nil
}

// protocolMessage is the message of a wire type's validation error.
func protocolMessage(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe.Message
	}
	return err.Error()
}

func errNoOrgDevice(id string) error {
	return errf(protocol.ErrNotFound, "there is no device %s in this organization", check.Truncate(id, 64))
}

// CheckOrg returns nil when deviceID is one of orgID's computers, and
// not_found otherwise.
func (s *Service) CheckOrg(ctx context.Context, orgID, deviceID string) error {
	var one int
	err := s.db.QueryRow(ctx, "SELECT 1 FROM devices WHERE id = ? AND organization_id = ? AND organization_id <> ''", deviceID, orgID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return errNoOrgDevice(deviceID)
	}
	if err != nil {
		return fmt.Errorf("look up device: %w", err)
	}
	return nil
}

func (s *Service) queryOrgDevices(ctx context.Context, query string, args ...any) ([]OrgDevice, error) {
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cutoff := s.now().Add(-s.onlineWindow())
	out := []OrgDevice{}
	for rows.Next() {
		var (
			d                      OrgDevice
			activated, lastSeen    int64
			deactivated, suspended sql.NullInt64
			profiles               sql.NullString
		)
		if err := rows.Scan(&d.ID, &d.LicenseID, &d.LicenseKey, &d.Fingerprint, &d.Facts.Hostname, &d.Facts.OS, &d.Facts.Arch,
			&d.Facts.AgentVersion, &activated, &lastSeen, &deactivated, &profiles, &d.Name, &suspended, &d.AccountID, &d.Email,
			&d.Plan, &d.WorkspaceID, &d.WorkspaceName); err != nil {
			return nil, err
		}
		d.LicenseKey = licensekey.Format(d.LicenseKey)
		d.ActivatedAt, d.LastSeen = store.FromMillis(activated), store.FromMillis(lastSeen)
		d.Active = !deactivated.Valid
		switch {
		case deactivated.Valid:
			d.Status, d.DeactivatedAt = adminapi.StatusDeactivated, store.FromMillis(deactivated.Int64)
		case suspended.Valid:
			d.Status = adminapi.StatusSuspended
		case !d.LastSeen.Before(cutoff):
			d.Status = adminapi.StatusOnline
		default:
			d.Status = adminapi.StatusOffline
		}
		if suspended.Valid {
			d.SuspendedAt = store.FromMillis(suspended.Int64)
		}
		d.Profiles = parseProfiles(profiles)
		out = append(out, d)
	}
	return out, rows.Err()
}
