package licenses

import (
	"context"
	"fmt"
	"strconv"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/store"
)

// PageLicenses returns one page of an account's licenses, oldest first (as
// ListLicenses), with the total. The keyset cursor is the last license's
// (created, id): licenses created while a client pages come last, so the
// pages neither repeat nor skip one.
func (s *Service) PageLicenses(ctx context.Context, ownerAccountID string, req paging.Request) (paging.Page[License], error) {
	if err := req.Validate(); err != nil {
		return paging.Page[License]{}, invalid("%s", err.Error())
	}
	key, err := paging.Decode(req.Cursor, 2)
	if err != nil {
		return paging.Page[License]{}, invalid("%s", err.Error())
	}
	n := req.Size()
	q, args := "SELECT "+Cols+From+" WHERE l.owner_account_id = ?", []any{ownerAccountID}
	if key != nil {
		at, err := strconv.ParseInt(key[0], 10, 64)
		if err != nil {
			return paging.Page[License]{}, invalid("%s", paging.ErrCursor.Error())
		}
		q += " AND (l.created_at > ? OR (l.created_at = ? AND l.id > ?))"
		args = append(args, at, at, key[1])
	}
	rows, err := s.db.Query(ctx, q+" ORDER BY l.created_at, l.id LIMIT "+strconv.Itoa(n+1), args...)
	if err != nil {
		return paging.Page[License]{}, fmt.Errorf("page licenses: %w", err)
	}
	defer rows.Close()
	out := []License{}
	for rows.Next() {
		l, err := Scan(rows)
		if err != nil {
			return paging.Page[License]{}, fmt.Errorf("page licenses: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return paging.Page[License]{}, fmt.Errorf("page licenses: %w", err)
	}
	var total int64
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM licenses WHERE owner_account_id = ?", ownerAccountID).Scan(&total); err != nil {
		return paging.Page[License]{}, fmt.Errorf("count licenses: %w", err)
	}
	return paging.Trim(out, n, total, func(l License) []string {
		return []string{strconv.FormatInt(store.Millis(l.Created), 10), l.ID}
	}), nil
}
