package localapi

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"

	"github.com/entitle/entitle/agent/profiles"
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
		// The unreachable activation above left an activation in progress
		// (finished in the background); deactivating cancels it: 200.
		{"deactivate cancels the activation in progress", "DELETE", agentapi.PathActivation, "", token, 200, openapitest.AlsoRequest},
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

// agentWithProfiles is the local API as the agent assembles it (agent/cli):
// the real engine and the real profile routes.
func agentWithProfiles(t *testing.T) *running {
	t.Helper()
	pm, err := profiles.New(profiles.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return start(t, Options{Engine: realEngine(t), Extra: pm.Routes, BodyLimits: profiles.BodyLimits()})
}

// TestOpenAPIDescribesEveryRoute: every route the agent serves (profiles
// included) is an operation of docs/openapi/agent.yaml, and every documented
// operation is served.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "openapi", "agent.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	r := agentWithProfiles(t)
	param := regexp.MustCompile(`:([a-z_]+)`)
	served := map[string]bool{}
	for _, rt := range r.srv.echo.Routes() {
		if rt.Method == echo.RouteNotFound {
			continue
		}
		path := param.ReplaceAllString(rt.Path, "{$1}")
		key := strings.ToLower(rt.Method) + " " + path
		served[key] = true
		if _, ok := doc.Paths[path][strings.ToLower(rt.Method)]; !ok {
			t.Errorf("%s %s is served but not documented", rt.Method, path)
		}
	}
	for path, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" && !served[m+" "+path] {
				t.Errorf("documented %s %s is not served", strings.ToUpper(m), path)
			}
		}
	}
}

// TestProfileResponsesMatchOpenAPI validates real exchanges with the real
// profile routes against the document.
func TestProfileResponsesMatchOpenAPI(t *testing.T) {
	v := openapitest.Load(t, filepath.Join(testenv.RepoRoot(t), "docs", "openapi", "agent.yaml"))
	r := agentWithProfiles(t)
	c := &http.Client{Timeout: 30 * time.Second}
	send := func(method, path, body string, want int, mode openapitest.Mode) []byte {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, r.url(path), rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(agentapi.TokenHeader, testToken)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		_, b := openapitest.Do(t, v, c, req, want, mode)
		return b
	}
	const also, only = openapitest.AlsoRequest, openapitest.ResponseOnly
	var created agentapi.ProfileInfo
	if err := json.Unmarshal(send("POST", agentapi.PathProfiles, `{"owner":"Alice Martin","valid_years":2}`, 201, also), &created); err != nil || created.ID == "" {
		t.Fatalf("create: %v %+v", err, created)
	}
	send("POST", agentapi.PathProfiles, `{"owner":""}`, 400, only)
	send("GET", agentapi.PathProfiles, "", 200, also)
	send("GET", agentapi.PathProfiles+"/"+created.ID, "", 200, also)
	send("GET", agentapi.PathProfiles+"/nope", "", 404, only)
	send("POST", agentapi.PathProfiles+"/"+created.ID+"/default", "", 200, also)
	pem := send("POST", agentapi.PathProfiles+"/"+created.ID+"/export", `{"format":"pem"}`, 200, also)
	if !strings.Contains(string(pem), "BEGIN CERTIFICATE") {
		t.Fatalf("pem export: %q", pem)
	}
	send("POST", agentapi.PathProfiles+"/"+created.ID+"/export", `{"format":"der"}`, 200, also)
	send("POST", agentapi.PathProfiles+"/"+created.ID+"/export", `{"format":"gif"}`, 400, only)
	send("POST", "/v1/migrate/export", `{"passphrase":"correct horse battery staple"}`, 200, also)
	send("POST", agentapi.PathProfiles+"/import", `{"data":"bm90IGEgY2VydGlmaWNhdGU="}`, 400, only)
	send("DELETE", agentapi.PathProfiles+"/"+created.ID, "", 204, also)
	send("DELETE", agentapi.PathProfiles+"/"+created.ID, "", 404, only)
}
