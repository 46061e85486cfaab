// Package paging is the keyset pagination every list of the server's APIs
// shares: a request names how many items it wants and the opaque cursor of the
// previous page; a page carries its items, the cursor of the next page (empty
// on the last one) and the total number of items the list holds.
//
// A cursor is the sort key of the last item returned, encoded so a client
// cannot read meaning into it; the server decodes it back into that key and
// continues with "WHERE (k1, k2) > (?, ?) ORDER BY k1, k2 LIMIT n+1", so a page
// costs the same at row 10 and at row 1,000,000 and stays stable under inserts.
package paging

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// Limits on a page's size and on a cursor's length.
const (
	DefaultLimit   = 50
	MaxLimit       = 500
	MaxCursorBytes = 512
)

// Errors of Validate and Decode; both are the client's (a 400).
var (
	ErrLimit  = errors.New("limit must be between 1 and 500")
	ErrCursor = errors.New("cursor is not one this server issued")
)

// Request asks for one page.
type Request struct {
	Limit  int    `json:"limit,omitempty"`
	Cursor string `json:"cursor,omitempty"`
}

// Validate checks the bounds; a zero Limit means DefaultLimit.
func (r Request) Validate() error {
	if r.Limit < 0 || r.Limit > MaxLimit {
		return ErrLimit
	}
	if len(r.Cursor) > MaxCursorBytes {
		return ErrCursor
	}
	return nil
}

// Size is the number of items to return: Limit, or DefaultLimit when zero.
func (r Request) Size() int {
	if r.Limit == 0 {
		return DefaultLimit
	}
	return r.Limit
}

// FromQuery reads ?limit= and ?cursor= and validates them.
func FromQuery(q url.Values) (Request, error) {
	var r Request
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return Request{}, ErrLimit
		}
		r.Limit = n
	}
	r.Cursor = q.Get("cursor")
	if err := r.Validate(); err != nil {
		return Request{}, err
	}
	return r, nil
}

// Query writes r into q (the client side of FromQuery).
func (r Request) Query(q url.Values) {
	if r.Limit != 0 {
		q.Set("limit", strconv.Itoa(r.Limit))
	}
	if r.Cursor != "" {
		q.Set("cursor", r.Cursor)
	}
}

// Page is one page of a list.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
	Total      int64  `json:"total"`
}

// Encode makes the cursor that continues after the item whose sort key is
// key (its columns in ORDER BY order).
func Encode(key ...string) string {
	b, _ := json.Marshal(key) // a []string always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a cursor made by Encode with n key columns. An empty cursor
// (the first page) returns nil.
func Decode(cursor string, n int) ([]string, error) {
	if cursor == "" {
		return nil, nil
	}
	if len(cursor) > MaxCursorBytes {
		return nil, ErrCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCursor, err)
	}
	var key []string
	if err := json.Unmarshal(b, &key); err != nil || len(key) != n {
		return nil, ErrCursor
	}
	return key, nil
}

// Trim turns the n+1 rows a keyset query fetched into a page of at most n:
// when there is an extra row, the next cursor is the key of the last kept item.
func Trim[T any](rows []T, n int, total int64, key func(T) []string) Page[T] {
	p := Page[T]{Items: rows, Total: total}
	if p.Items == nil {
		p.Items = []T{}
	}
	if len(rows) > n {
		p.Items = rows[:n]
		p.NextCursor = Encode(key(rows[n-1])...)
	}
	return p
}

// Map converts a page's items with f, keeping its cursor and total (a
// domain's page into its wire type).
func Map[T, U any](p Page[T], f func(T) U) Page[U] {
	out := Page[U]{Items: make([]U, 0, len(p.Items)), NextCursor: p.NextCursor, Total: p.Total}
	for _, it := range p.Items {
		out.Items = append(out.Items, f(it))
	}
	return out
}
