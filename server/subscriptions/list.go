package subscriptions

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/internal/column"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
)

func featuresJSON(f []string) string {
	if f == nil {
		f = []string{}
	}
	return column.JSON(f)
}

// millisKey is the created-at half of a keyset cursor.
func millisKey(t time.Time) string { return strconv.FormatInt(store.Millis(t), 10) }

// Get returns orgID's subscription subID ("" orgID: any organization's).
func (s *Service) Get(ctx context.Context, orgID, subID string) (Subscription, error) {
	q := "SELECT " + cols + from + " WHERE s.id = ?"
	args := []any{subID}
	if orgID != "" {
		q += " AND s.organization_id = ?"
		args = append(args, orgID)
	}
	sub, err := scan(s.db.QueryRow(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Subscription{}, errNoSubscription()
	}
	if err != nil {
		return Subscription{}, fmt.Errorf("get subscription: %w", err)
	}
	return sub, nil
}

// List lists orgID's subscriptions, oldest first; "" lists every
// organization's (the operator).
func (s *Service) List(ctx context.Context, orgID string, req paging.Request) (paging.Page[Subscription], error) {
	where, args := " WHERE 1 = 1", []any{}
	if orgID != "" {
		where, args = " WHERE s.organization_id = ?", []any{orgID}
	}
	return pageOf(ctx, s.db, req, "SELECT COUNT(*) FROM subscriptions s"+where, "SELECT "+cols+from+where, "s", args, func(r *sql.Rows) (Subscription, error) { return scan(r) },
		func(x Subscription) []string { return []string{millisKey(x.Created), x.ID} })
}

// Assignments lists the live licenses issued from orgID's subscription
// subID, oldest first.
func (s *Service) Assignments(ctx context.Context, orgID, subID string, req paging.Request) (paging.Page[licenses.License], error) {
	if _, err := s.Get(ctx, orgID, subID); err != nil {
		return paging.Page[licenses.License]{}, err
	}
	where := " WHERE l.subscription_id = ? AND l.organization_id = ? AND l.revoked_at IS NULL"
	return pageOf(ctx, s.db, req, "SELECT COUNT(*) FROM licenses l"+where, "SELECT "+licenses.Cols+licenses.From+where, "l",
		[]any{subID, orgID}, func(r *sql.Rows) (licenses.License, error) { return licenses.Scan(r) }, func(l licenses.License) []string { return []string{millisKey(l.Created), l.ID} })
}

// pageOf reads one keyset page (created_at, id of table alias t) with the
// total; count and query share args.
func pageOf[T any](ctx context.Context, db *store.DB, req paging.Request, count, query, t string, args []any,
	scanRow func(*sql.Rows) (T, error), key func(T) []string) (paging.Page[T], error) {
	cur, err := paging.Decode(req.Cursor, 2)
	if err != nil {
		return paging.Page[T]{}, fault.Invalid("%v", err)
	}
	var total int64
	if err := db.QueryRow(ctx, count, args...).Scan(&total); err != nil {
		return paging.Page[T]{}, fmt.Errorf("count: %w", err)
	}
	n := req.Size()
	q, qargs := query, append([]any{}, args...)
	if cur != nil {
		after, err := strconv.ParseInt(cur[0], 10, 64)
		if err != nil {
			return paging.Page[T]{}, fault.Invalid("%v", paging.ErrCursor)
		}
		q += " AND (" + t + ".created_at > ? OR (" + t + ".created_at = ? AND " + t + ".id > ?))"
		qargs = append(qargs, after, after, cur[1])
	}
	q += " ORDER BY " + t + ".created_at, " + t + ".id LIMIT ?"
	qargs = append(qargs, n+1)
	rows, err := db.Query(ctx, q, qargs...)
	if err != nil {
		return paging.Page[T]{}, fmt.Errorf("list: %w", err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		x, err := scanRow(rows)
		if err != nil {
			return paging.Page[T]{}, fmt.Errorf("list: %w", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return paging.Page[T]{}, fmt.Errorf("list: %w", err)
	}
	return paging.Trim(out, n, total, key), nil
}
