package httpapi_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/store"
)

// TestOpenAPIDescribesEveryRoute keeps docs/openapi/server.yaml true: every
// route the server registers must be documented with its method, and every
// documented operation must exist, and every error code must be listed.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "openapi", "server.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string                               `yaml:"openapi"`
		Paths      map[string]map[string]map[string]any `yaml:"paths"`
		Components struct {
			Schemas map[string]struct {
				Enum []string `yaml:"enum"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("server.yaml does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi version %q, want 3.1.x", doc.OpenAPI)
	}

	e := apitest.Start(t, store.SQLite)
	registered := map[string]bool{}
	for _, route := range e.API.Routes() {
		method, path, ok := strings.Cut(route, " ")
		if !ok {
			t.Fatalf("route %q has no method", route)
		}
		// "/{$}" is ServeMux for "exactly /"; OpenAPI writes it "/".
		path = strings.TrimSuffix(path, "{$}")
		key := strings.ToLower(method) + " " + path
		registered[key] = true
		t.Run(route, func(t *testing.T) {
			op, ok := doc.Paths[path][strings.ToLower(method)]
			if !ok {
				t.Fatalf("%s is served but not documented in docs/openapi/server.yaml", route)
			}
			if _, ok := op["responses"]; !ok {
				t.Fatalf("%s has no responses documented", route)
			}
		})
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			if !registered[method+" "+path] {
				t.Errorf("documented %s %s is not served", strings.ToUpper(method), path)
			}
		}
	}

	codes := map[string]bool{}
	for _, c := range doc.Components.Schemas["ErrorCode"].Enum {
		codes[c] = true
	}
	for _, c := range []string{
		protocol.ErrAuthorizationPending, protocol.ErrSlowDown, protocol.ErrAccessDenied, protocol.ErrExpiredToken,
		protocol.ErrInvalidRequest, protocol.ErrInvalidCredentials, protocol.ErrUnknownLicense, protocol.ErrLicenseExpired,
		protocol.ErrLicenseSuspended, protocol.ErrNoSeats, protocol.ErrNoLicense, protocol.ErrDeviceRevoked,
		protocol.ErrRateLimited, protocol.ErrTooLarge, protocol.ErrNotFound, protocol.ErrInternal, protocol.ErrManagedRemotely,
		protocol.ErrMethodNotAllowed,
	} {
		if !codes[c] {
			t.Errorf("error code %q is not in the ErrorCode schema", c)
		}
	}
	for _, c := range adminapi.Codes() {
		if !codes[c] {
			t.Errorf("error code %q is not in the ErrorCode schema", c)
		}
	}
}
