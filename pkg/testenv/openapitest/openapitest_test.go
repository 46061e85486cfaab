package openapitest_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/pkg/testenv/openapitest"
)

// TestDocumentsValid validates both OpenAPI documents against the OpenAPI
// specification of the version each declares.
func TestDocumentsValid(t *testing.T) {
	for _, name := range []string{"agent.yaml", "server.yaml"} {
		t.Run(name, func(t *testing.T) {
			openapitest.Load(t, filepath.Join(testenv.RepoRoot(t), "docs", "openapi", name))
		})
	}
}

// TestValidatorRejectsInvalid: the validator is strict enough to catch what
// went wrong before (itemSchema, an OpenAPI 3.2 field, in a 3.1 document) and
// an undeclared security scheme.
func TestValidatorRejectsInvalid(t *testing.T) {
	const base = `openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /e:
    get:
      %s
      responses:
        "200":
          description: ok
          content:
            text/event-stream:
              schema: {type: string}
              %s
`
	for _, tc := range []struct{ name, security, extra string }{
		{"itemSchema in 3.1", "", "itemSchema: {type: object}"},
		{"unknown media type field", "", "x: 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(strings.Replace(base, "%s", tc.security, 1), "%s", tc.extra, 1)
			if _, err := openapitest.Parse([]byte(doc)); err == nil {
				t.Fatalf("accepted:\n%s", doc)
			}
		})
	}
	ok := strings.Replace(strings.Replace(base, "%s", "", 1), "%s", "", 1)
	if _, err := openapitest.Parse([]byte(ok)); err != nil {
		t.Fatalf("a valid document was refused: %v", err)
	}
}
