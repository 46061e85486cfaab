package devices

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/store"
)

const (
	deviceColsFrom = `SELECT d.id, d.license_id, l.license_key, d.fingerprint, d.hostname, d.os, d.arch, d.agent_version,
		d.activated_at, d.last_seen_at, d.deactivated_at, d.profiles`
	deviceCols = deviceColsFrom + `
		FROM devices d JOIN licenses l ON l.id = d.license_id WHERE l.owner_account_id = ?`
	// deviceState sorts active devices first.
	deviceState = `(CASE WHEN d.deactivated_at IS NULL THEN 0 ELSE 1 END)`
	deviceOrder = ` ORDER BY ` + deviceState + `, d.activated_at DESC, d.id DESC`
)

// ListDevices lists the devices on an account's licenses, active ones first,
// newest first: the first 1000 (PageDevices pages through all).
func (s *Service) ListDevices(ctx context.Context, accountID string) ([]Device, error) {
	out, err := s.queryDevices(ctx, deviceCols+deviceOrder+" LIMIT 1000", accountID)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return out, nil
}

// PageDevices returns one page of the devices on an account's licenses, in
// ListDevices' order, with the total. The keyset cursor names the last
// device shown, so devices activated while a client pages (they sort first)
// neither repeat nor push others out of the pages still to come.
//
// A page reads at most a page from each of the account's licenses and each
// state (active, released), each walked backwards from the cursor in the
// partial indexes devices_license_active_page and
// devices_license_released_page, and sorts only those rows: its cost does not
// grow with the number of devices (pageDevicesQuery;
// TestDevicePageUsesTheIndexes holds both databases' plans to it).
func (s *Service) PageDevices(ctx context.Context, accountID string, req paging.Request) (paging.Page[Device], error) {
	if err := req.Validate(); err != nil {
		return paging.Page[Device]{}, invalid("%s", err.Error())
	}
	key, err := paging.Decode(req.Cursor, 3)
	if err != nil {
		return paging.Page[Device]{}, invalid("%s", err.Error())
	}
	var after *deviceKey
	if key != nil {
		state, err1 := strconv.Atoi(key[0])
		at, err2 := strconv.ParseInt(key[1], 10, 64)
		if err1 != nil || err2 != nil || (state != 0 && state != 1) {
			return paging.Page[Device]{}, invalid("%s", paging.ErrCursor.Error())
		}
		after = &deviceKey{released: state == 1, at: at, id: key[2]}
	}
	n := req.Size()
	licenseIDs, err := s.accountLicenseIDs(ctx, accountID)
	if err != nil {
		return paging.Page[Device]{}, fmt.Errorf("page devices: %w", err)
	}
	rows := []Device{}
	for len(licenseIDs) > 0 {
		chunk := licenseIDs[:min(len(licenseIDs), pageLicenseChunk)]
		licenseIDs = licenseIDs[len(chunk):]
		q, args := pageDevicesQuery(chunk, after, n+1)
		got, err := s.queryDevices(ctx, q, args...)
		if err != nil {
			return paging.Page[Device]{}, fmt.Errorf("page devices: %w", err)
		}
		rows = append(rows, got...)
	}
	// Several chunks: merge their pages (each already in order).
	slices.SortFunc(rows, func(a, b Device) int {
		if a.Active != b.Active {
			if a.Active {
				return -1
			}
			return 1
		}
		if c := b.ActivatedAt.Compare(a.ActivatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	if len(rows) > n+1 {
		rows = rows[:n+1]
	}
	var total int64
	// licenses.device_count is kept by triggers (migration 00015): the
	// total reads one row per license, not one per device.
	if err := s.db.QueryRow(ctx, `SELECT COALESCE(SUM(device_count), 0) FROM licenses WHERE owner_account_id = ?`,
		accountID).Scan(&total); err != nil {
		return paging.Page[Device]{}, fmt.Errorf("count devices: %w", err)
	}
	return paging.Trim(rows, n, total, func(d Device) []string {
		state := "1"
		if d.Active {
			state = "0"
		}
		return []string{state, strconv.FormatInt(store.Millis(d.ActivatedAt), 10), d.ID}
	}), nil
}

// pageLicenseChunk is the most licenses one page query reads (two arms of
// a compound SELECT each; SQLite allows 500).
const pageLicenseChunk = 64

// deviceKey is the position of the last device of a page.
type deviceKey struct {
	released bool
	at       int64
	id       string
}

func (s *Service) accountLicenseIDs(ctx context.Context, accountID string) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT id FROM licenses WHERE owner_account_id = ? ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// pageDevicesQuery is the query of up to limit devices after the key (nil:
// from the start) on licenseIDs, in deviceOrder: for each license and state,
// the next limit rows of that state's partial index, walked backwards, then
// the union of those sorted.
func pageDevicesQuery(licenseIDs []string, after *deviceKey, limit int) (string, []any) {
	var sb strings.Builder
	var args []any
	lim := strconv.Itoa(limit)
	arms := 0
	arm := func(licenseID string, released bool, from *deviceKey) {
		if sb.Len() > 0 {
			sb.WriteString(" UNION ALL ")
		}
		state, cond := "0", "IS NULL"
		if released {
			state, cond = "1", "IS NOT NULL"
		}
		sb.WriteString(`SELECT * FROM (` + deviceColsFrom + `, ` + state + ` AS st
			FROM devices d JOIN licenses l ON l.id = d.license_id WHERE d.license_id = ? AND d.deactivated_at ` + cond)
		args = append(args, licenseID)
		if from != nil {
			sb.WriteString(` AND (d.activated_at, d.id) < (?, ?)`)
			args = append(args, from.at, from.id)
		}
		sb.WriteString(` ORDER BY d.activated_at DESC, d.id DESC LIMIT ` + lim + `) a` + strconv.Itoa(arms))
		arms++
	}
	for _, id := range licenseIDs {
		switch {
		case after == nil:
			arm(id, false, nil)
			arm(id, true, nil)
		case !after.released:
			arm(id, false, after)
			arm(id, true, nil)
		default:
			arm(id, true, after)
		}
	}
	return `SELECT id, license_id, license_key, fingerprint, hostname, os, arch, agent_version, activated_at, last_seen_at,
		deactivated_at, profiles FROM (` + sb.String() + `) page ORDER BY st, activated_at DESC, id DESC LIMIT ` + lim, args
}

func (s *Service) queryDevices(ctx context.Context, query string, args ...any) ([]Device, error) {
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Device{}
	for rows.Next() {
		var (
			d                   Device
			activated, lastSeen int64
			deactivated         sql.NullInt64
			profiles            sql.NullString
		)
		if err := rows.Scan(&d.ID, &d.LicenseID, &d.LicenseKey, &d.Fingerprint, &d.Facts.Hostname, &d.Facts.OS, &d.Facts.Arch,
			&d.Facts.AgentVersion, &activated, &lastSeen, &deactivated, &profiles); err != nil {
			return nil, err
		}
		d.LicenseKey = licensekey.Format(d.LicenseKey)
		d.ActivatedAt, d.LastSeen = store.FromMillis(activated), store.FromMillis(lastSeen)
		d.Active = !deactivated.Valid
		d.Profiles = parseProfiles(profiles)
		out = append(out, d)
	}
	return out, rows.Err()
}

// parseProfiles reads the profiles column: the summary the agent last
// reported, nil when none (or unreadable).
func parseProfiles(col sql.NullString) *protocol.ProfileSummary {
	if !col.Valid || strings.TrimSpace(col.String) == "" {
		return nil
	}
	var p protocol.ProfileSummary
	if err := json.Unmarshal([]byte(col.String), &p); err != nil {
		return nil
	}
	return &p
}
