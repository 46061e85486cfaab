package localapi

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/pkg/testenv/openapitest"
)

// TestResponsesMatchOpenAPI sends real requests to the local API over the
// real engine (inactive, licensing server unreachable) and validates each
// exchange against docs/openapi/agent.yaml with libopenapi-validator: the
// status is documented for the operation, the content type is the documented
// one and the body matches its schema; the happy-path requests are validated
// too (parameters, body, security).
func TestResponsesMatchOpenAPI(t *testing.T) {
	v := openapitest.Load(t, filepath.Join(testenv.RepoRoot(t), "docs", "openapi", "agent.yaml"))
	r := start(t, Options{Engine: realEngine(t)})
	c := &http.Client{Timeout: 30 * time.Second}
	token := map[string]string{agentapi.TokenHeader: testToken}
	bearer := map[string]string{"Authorization": "Bearer " + testToken}
	jsonBody := map[string]string{agentapi.TokenHeader: testToken, "Content-Type": "application/json"}
	key, err := licensekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, path, body string
		hdr                      map[string]string
		want                     int
		mode                     openapitest.Mode
	}{
		{"entitlement", "GET", agentapi.PathEntitlement, "", nil, 200, openapitest.AlsoRequest},
		{"entitlement feature", "GET", agentapi.PathEntitlement + "?feature=sign", "", nil, 200, openapitest.AlsoRequest},
		{"entitlement bad feature", "GET", agentapi.PathEntitlement + "?feature=a%20b", "", nil, 400, openapitest.ResponseOnly},
		{"entitlement head", "HEAD", agentapi.PathEntitlement, "", nil, 200, openapitest.AlsoRequest},
		{"entitlement from a page", "GET", agentapi.PathEntitlement, "", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, openapitest.ResponseOnly},
		{"health", "GET", agentapi.PathHealth, "", nil, 200, openapitest.AlsoRequest},
		{"health head", "HEAD", agentapi.PathHealth, "", nil, 200, openapitest.AlsoRequest},
		{"openapi", "GET", agentapi.PathOpenAPI, "", nil, 200, openapitest.AlsoRequest},
		{"status token header", "GET", agentapi.PathStatus, "", token, 200, openapitest.AlsoRequest},
		{"status bearer", "GET", agentapi.PathStatus, "", bearer, 200, openapitest.AlsoRequest},
		{"status head", "HEAD", agentapi.PathStatus, "", token, 200, openapitest.AlsoRequest},
		{"status without token", "GET", agentapi.PathStatus, "", nil, 401, openapitest.ResponseOnly},
		{"status bad host", "GET", agentapi.PathStatus, "", map[string]string{"Host": "evil.example"}, 403, openapitest.ResponseOnly},
		{"check, server unreachable", "POST", agentapi.PathCheck, "{}", jsonBody, 409, openapitest.AlsoRequest},
		{"check bad json", "POST", agentapi.PathCheck, "{", jsonBody, 400, openapitest.ResponseOnly},
		{"check too large", "POST", agentapi.PathCheck, "{" + strings.Repeat(" ", agentapi.MaxBodyBytes) + "}", jsonBody, 413, openapitest.ResponseOnly},
		{"activate bad key", "POST", agentapi.PathActivation, `{"method":"license_key","license_key":"not a key"}`, jsonBody, 400, openapitest.ResponseOnly},
		{"activate, server unreachable", "POST", agentapi.PathActivation, `{"method":"license_key","license_key":"` + key + `"}`, jsonBody, 503, openapitest.AlsoRequest},
		{"activate form post", "POST", agentapi.PathActivation, `method=browser`, map[string]string{agentapi.TokenHeader: testToken, "Content-Type": "application/x-www-form-urlencoded"}, 403, openapitest.ResponseOnly},
		{"deactivate, not active", "DELETE", agentapi.PathActivation, "", token, 409, openapitest.AlsoRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rd io.Reader
			if tc.body != "" {
				rd = strings.NewReader(tc.body)
			}
			req, err := http.NewRequest(tc.method, r.url(tc.path), rd)
			if err != nil {
				t.Fatal(err)
			}
			for k, val := range tc.hdr {
				if k == "Host" {
					req.Host = val
					continue
				}
				req.Header.Set(k, val)
			}
			openapitest.Do(t, v, c, req, tc.want, tc.mode)
		})
	}
}
