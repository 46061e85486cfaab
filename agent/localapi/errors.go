package localapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/entitle/entitle/pkg/agentapi"
)

var errTooLarge = &agentapi.Error{Code: agentapi.ErrTooLarge, Message: "request body is over " + strconv.Itoa(agentapi.MaxBodyBytes) + " bytes"}

// writeError writes e as JSON with the status agentapi.HTTPStatus gives it.
func writeError(w http.ResponseWriter, e *agentapi.Error) {
	writeErrorStatus(w, agentapi.HTTPStatus(e.Code), e)
}

func writeErrorStatus(w http.ResponseWriter, status int, e *agentapi.Error) {
	b, err := json.Marshal(e)
	if err != nil { // cannot happen for two strings; keep a valid body anyway
		b = []byte(`{"error":"internal","message":"internal error"}`)
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// handleError is echo's error handler: engine errors (*agentapi.Error) keep
// their code, router errors get the matching code, anything else is a 500
// whose details go to the log, not to the client.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	w := c.Response()
	var ae *agentapi.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
		if agentapi.HTTPStatus(ae.Code) >= 500 {
			s.log.Warn("local API request failed", "method", c.Request().Method, "path", c.Path(), "code", ae.Code, "err", ae.Message)
		}
		writeError(w, ae)
	case errors.As(err, &he):
		code := agentapi.ErrBadRequest
		switch he.Code {
		case http.StatusNotFound:
			code = agentapi.ErrNotFound
		case http.StatusMethodNotAllowed:
			code = agentapi.ErrMethodNotAllowed
		case http.StatusUnauthorized:
			code = agentapi.ErrUnauthorized
		case http.StatusForbidden:
			code = agentapi.ErrForbidden
		case http.StatusRequestEntityTooLarge:
			code = agentapi.ErrTooLarge
		case http.StatusTooManyRequests:
			code = agentapi.ErrRateLimited
		}
		if he.Code >= 500 {
			code = agentapi.ErrInternalError
		}
		writeErrorStatus(w, he.Code, &agentapi.Error{Code: code, Message: http.StatusText(he.Code)})
	default:
		s.log.Error("local API request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
		writeError(w, &agentapi.Error{Code: agentapi.ErrInternalError, Message: "internal error"})
	}
}
