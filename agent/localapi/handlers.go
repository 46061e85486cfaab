package localapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/entitle/entitle/pkg/agentapi"
)

func (s *Server) getStatus(c echo.Context) error {
	return c.JSON(http.StatusOK, s.status(c))
}

func (s *Server) postActivation(c echo.Context) error {
	body, e := readBody(c.Response(), c.Request())
	if e != nil {
		return e
	}
	req, e := decodeActivate(body)
	if e != nil {
		return e
	}
	resp, err := s.engine.Activate(c.Request().Context(), req)
	if err != nil {
		return err
	}
	s.lang.localize(&resp.Status.Entitlement, s.lang.index(c.Request()))
	return c.JSON(http.StatusOK, resp)
}

// emptyBody accepts no body or an empty JSON object.
func emptyBody(c echo.Context) *agentapi.Error {
	body, e := readBody(c.Response(), c.Request())
	if e != nil {
		return e
	}
	var none struct{}
	return decodeJSON(body, &none, true)
}

func (s *Server) deleteActivation(c echo.Context) error {
	if e := emptyBody(c); e != nil {
		return e
	}
	if err := s.engine.Deactivate(c.Request().Context()); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.status(c))
}

func (s *Server) postCheck(c echo.Context) error {
	if e := emptyBody(c); e != nil {
		return e
	}
	if err := s.engine.CheckNow(c.Request().Context()); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.status(c))
}
