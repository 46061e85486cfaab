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
	q, args := PageQuery(ownerAccountID, nil, n+1)
	if key != nil {
		at, err := strconv.ParseInt(key[0], 10, 64)
		if err != nil {
			return paging.Page[License]{}, invalid("%s", paging.ErrCursor.Error())
		}
		q, args = PageQuery(ownerAccountID, &PageKey{Created: at, ID: key[1]}, n+1)
	}
	rows, err := s.db.Query(ctx, q, args...)
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

// PageKey is the position of the last license of a page.
type PageKey struct {
	Created int64 // Unix ms
	ID      string
}

// PageQuery is the query of up to limit of an owner's licenses after the
// key (nil: from the start), oldest first: a walk of the index
// licenses_owner_created_id from the key, without a sort
// (TestPageQueriesUseTheIndexes in package devices holds the plans to it).
func PageQuery(ownerAccountID string, after *PageKey, limit int) (string, []any) {
	// The owner named on both sides of the join: SQLite then reads the
	// owner's one account row first and the licenses in index order,
	// where with the account table's statistics it may otherwise scan it
	// and sort.
	q, args := "SELECT "+Cols+From+" WHERE l.owner_account_id = ? AND a.id = ?", []any{ownerAccountID, ownerAccountID}
	if after != nil {
		q += " AND (l.created_at, l.id) > (?, ?)"
		args = append(args, after.Created, after.ID)
	}
	return q + " ORDER BY l.created_at, l.id LIMIT " + strconv.Itoa(limit), args
}
