package httpapi

import (
	"net/http"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
)

// servePage answers a list route: it reads ?limit= and ?cursor=, asks list
// for the page and writes it converted with view. op names the list in logs.
func servePage[T, U any](s *Server, w http.ResponseWriter, r *http.Request, op string,
	list func(paging.Request) (paging.Page[T], error), view func(T) U) {
	req, err := paging.FromQuery(r.URL.Query())
	if err != nil {
		writeError(w, apiError(protocol.ErrInvalidRequest, err.Error()))
		return
	}
	p, err := list(req)
	if err != nil {
		s.failure(w, r, op, err)
		return
	}
	writeJSON(w, http.StatusOK, paging.Map(p, view))
}
