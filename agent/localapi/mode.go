package localapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/entitle/entitle/pkg/agentapi"
)

// obeyMode refuses, on a computer whose signed lease says "remote" (the
// administrator only), every change a person could make through the local
// API: activating again, deactivating, creating, importing, deleting or
// changing profiles, migrating to another computer. Reads (a profile's
// export included) and "check now" stay open. The rule
// holds offline, because the mode comes from the lease, not the server.
func (s *Server) obeyMode(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		switch c.Path() {
		case "/v1/check", "/v1/profiles/:id/export": // a check-in, and a read
			return next(c)
		}
		st := s.opts.Engine.Status()
		if st.Activated && st.Entitlement.ManagementMode == "remote" {
			note := st.DeactivateNote
			if note == "" {
				note = "managed remotely; ask your administrator"
			}
			return &agentapi.Error{Code: agentapi.ErrManagedRemotely, Message: note, Args: map[string]string{"organization": st.Organization}}
		}
		return next(c)
	}
}
