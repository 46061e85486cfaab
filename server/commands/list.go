package commands

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/store"
)

const recordCols = `id, device_id, organization_id, type, args, status, created_by, created_at, expires_at,
	delivered_at, completed_at, result_code, result_args`

func scanRecord(sc interface{ Scan(...any) error }) (Record, error) {
	var (
		r                    Record
		args, resArgs        string
		created, expires     int64
		delivered, completed sql.NullInt64
	)
	if err := sc.Scan(&r.ID, &r.DeviceID, &r.Organization, &r.Type, &args, &r.Status, &r.CreatedBy, &created, &expires,
		&delivered, &completed, &r.ResultCode, &resArgs); err != nil {
		return Record{}, err
	}
	r.Args, r.ResultArgs = parseArgs(args), parseArgs(resArgs)
	r.CreatedAt, r.ExpiresAt = store.FromMillis(created), store.FromMillis(expires)
	if delivered.Valid {
		t := store.FromMillis(delivered.Int64)
		r.DeliveredAt = &t
	}
	if completed.Valid {
		t := store.FromMillis(completed.Int64)
		r.CompletedAt = &t
	}
	return r, nil
}

// Get returns one command of deviceID.
func (s *Service) Get(ctx context.Context, deviceID, id string) (Record, error) {
	r, err := scanRecord(s.db.QueryRow(ctx, "SELECT "+recordCols+" FROM device_commands WHERE id = ? AND device_id = ?", id, deviceID))
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, fault.Errorf(protocol.ErrNotFound, "there is no command %s for this device", id)
	}
	if err != nil {
		return Record{}, fmt.Errorf("read command: %w", err)
	}
	return r, nil
}

// List pages through a device's commands, oldest first, with their total.
func (s *Service) List(ctx context.Context, deviceID string, req paging.Request) (paging.Page[Record], error) {
	if err := req.Validate(); err != nil {
		return paging.Page[Record]{}, fault.Invalid("%v", err)
	}
	key, err := paging.Decode(req.Cursor, 2)
	if err != nil {
		return paging.Page[Record]{}, fault.Invalid("%v", err)
	}
	var total int64
	if err := s.db.QueryRow(ctx, "SELECT count(*) FROM device_commands WHERE device_id = ?", deviceID).Scan(&total); err != nil {
		return paging.Page[Record]{}, fmt.Errorf("count commands: %w", err)
	}
	q := "SELECT " + recordCols + " FROM device_commands WHERE device_id = ?"
	args := []any{deviceID}
	if key != nil {
		at, err := strconv.ParseInt(key[0], 10, 64)
		if err != nil {
			return paging.Page[Record]{}, fault.Invalid("%v", paging.ErrCursor)
		}
		q += " AND (created_at > ? OR (created_at = ? AND id > ?))"
		args = append(args, at, at, key[1])
	}
	q += " ORDER BY created_at, id LIMIT ?"
	args = append(args, req.Size()+1)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return paging.Page[Record]{}, fmt.Errorf("list commands: %w", err)
	}
	defer rows.Close()
	var list []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return paging.Page[Record]{}, fmt.Errorf("read command: %w", err)
		}
		list = append(list, r)
	}
	if err := rows.Err(); err != nil {
		return paging.Page[Record]{}, fmt.Errorf("list commands: %w", err)
	}
	return paging.Trim(list, req.Size(), total, func(r Record) []string {
		return []string{strconv.FormatInt(store.Millis(r.CreatedAt), 10), r.ID}
	}), nil
}

// JSON is the command as the APIs and the server CLI show it.
func (r Record) JSON() accountapi.CommandJSON {
	return accountapi.CommandJSON{ID: r.ID, DeviceID: r.DeviceID, Type: r.Type, Args: r.Args, Status: r.Status,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, DeliveredAt: r.DeliveredAt,
		CompletedAt: r.CompletedAt, ResultCode: r.ResultCode, ResultArgs: r.ResultArgs}
}
