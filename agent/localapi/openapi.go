package localapi

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openapiYAML is the API description served at agentapi.PathOpenAPI. The file is
// a copy of docs/openapi/agent.yaml (a test keeps them equal).
//
//go:embed agent.yaml
var openapiYAML []byte

func getOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", openapiYAML)
}
