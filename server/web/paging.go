package web

import (
	"net/http"
	"net/url"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
)

// pageSize is how many rows a list page shows at once.
const pageSize = 50

// Pager is the data of the "pager" template: the total and the links to the
// first page (when not on it) and the next page (when there is one).
type Pager struct {
	Noun        string // the plural catalog message of the total, e.g. "web_total_computers"
	Total       int64
	First, Next string
}

// listPage fetches the page of a list the request's ?cursor= names. A cursor
// the server did not issue shows the first page. The pager's links keep the
// request's other query parameters (a list's filters); noun is the plural
// catalog message of the total.
func listPage[T any](r *http.Request, size int, noun string, fetch func(paging.Request) (paging.Page[T], error)) (paging.Page[T], Pager, error) {
	q := r.URL.Query()
	cursor := q.Get("cursor")
	if len(cursor) > paging.MaxCursorBytes {
		cursor = ""
	}
	pg, err := fetch(paging.Request{Limit: size, Cursor: cursor})
	if code, _, ok := serviceError(err); ok && code == protocol.ErrInvalidRequest && cursor != "" {
		cursor = ""
		pg, err = fetch(paging.Request{Limit: size})
	}
	if err != nil {
		return pg, Pager{}, err
	}
	link := func(c string) string {
		v := url.Values{}
		for k, vs := range q {
			if k != "cursor" {
				v[k] = vs
			}
		}
		if c != "" {
			v.Set("cursor", c)
		}
		if len(v) == 0 {
			return r.URL.Path
		}
		return r.URL.Path + "?" + v.Encode()
	}
	pr := Pager{Noun: noun, Total: pg.Total}
	if cursor != "" {
		pr.First = link("")
	}
	if pg.NextCursor != "" {
		pr.Next = link(pg.NextCursor)
	}
	return pg, pr, nil
}
