package devices

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/store"
)

const (
	deviceCols = `SELECT d.id, d.license_id, l.license_key, d.fingerprint, d.hostname, d.os, d.arch, d.agent_version,
		d.activated_at, d.last_seen_at, d.deactivated_at, d.profiles
		FROM devices d JOIN licenses l ON l.id = d.license_id WHERE l.owner_account_id = ?`
	// deviceState sorts active devices first.
	deviceState = `(CASE WHEN d.deactivated_at IS NULL THEN 0 ELSE 1 END)`
	deviceOrder = ` ORDER BY ` + deviceState + `, d.activated_at DESC, d.id DESC`
	// deviceAfter is the keyset condition: the rows after the cursor
	// (state, activated_at, id) in deviceOrder.
	deviceAfter = ` AND (` + deviceState + ` > ? OR (` + deviceState + ` = ? AND (d.activated_at < ? OR (d.activated_at = ? AND d.id < ?))))`
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
func (s *Service) PageDevices(ctx context.Context, accountID string, req paging.Request) (paging.Page[Device], error) {
	if err := req.Validate(); err != nil {
		return paging.Page[Device]{}, invalid("%s", err.Error())
	}
	key, err := paging.Decode(req.Cursor, 3)
	if err != nil {
		return paging.Page[Device]{}, invalid("%s", err.Error())
	}
	n := req.Size()
	q, args := deviceCols, []any{accountID}
	if key != nil {
		state, err1 := strconv.Atoi(key[0])
		at, err2 := strconv.ParseInt(key[1], 10, 64)
		if err1 != nil || err2 != nil || (state != 0 && state != 1) {
			return paging.Page[Device]{}, invalid("%s", paging.ErrCursor.Error())
		}
		q += deviceAfter
		args = append(args, state, state, at, at, key[2])
	}
	rows, err := s.queryDevices(ctx, q+deviceOrder+" LIMIT "+strconv.Itoa(n+1), args...)
	if err != nil {
		return paging.Page[Device]{}, fmt.Errorf("page devices: %w", err)
	}
	var total int64
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM devices d JOIN licenses l ON l.id = d.license_id WHERE l.owner_account_id = ?`,
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
