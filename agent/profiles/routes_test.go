package profiles

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/entitle/entitle/pkg/agentapi"
)

func serve(m *Manager) http.Handler {
	e := echo.New()
	m.Routes(e.Group("/v1"))
	return e
}

func call(t *testing.T, h http.Handler, method, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	var r *http.Request
	if body == nil {
		r = httptest.NewRequest(method, path, nil)
	} else {
		var b []byte
		if s, ok := body.(string); ok {
			b = []byte(s)
		} else {
			var err error
			if b, err = json.Marshal(body); err != nil {
				t.Fatal(err)
			}
		}
		r = httptest.NewRequest(method, path, bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRoutes(t *testing.T) {
	src := newTestManager(t, t.TempDir(), func(o *Options) { o.PlanLimit = func() int { return 1 } })
	h := serve(src)
	w := call(t, h, "POST", "/v1/profiles", CreateRequest{Owner: "Jeanne Dupont", Name: "Work"})
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	var a agentapi.ProfileInfo
	json.Unmarshal(w.Body.Bytes(), &a)
	w = call(t, h, "POST", "/v1/profiles", CreateRequest{Owner: "Jeanne Dupont", Name: "Home"})
	var b agentapi.ProfileInfo
	json.Unmarshal(w.Body.Bytes(), &b)

	var list []agentapi.ProfileInfo
	w = call(t, h, "GET", "/v1/profiles", nil)
	json.Unmarshal(w.Body.Bytes(), &list)
	if len(list) != 2 || list[0].ID != a.ID || list[1].Status != "unlicensed" {
		t.Fatalf("list with plan limit 1: %s", w.Body)
	}
	if w = call(t, h, "POST", "/v1/profiles/"+b.ID+"/default", nil); w.Code != 200 || !strings.Contains(w.Body.String(), `"default":true`) {
		t.Fatalf("default: %d %s", w.Code, w.Body)
	}
	errorCases := []struct {
		method, path string
		body         any
		code         int
		errCode      string
	}{
		{"GET", "/v1/profiles/nope", nil, 404, agentapi.ErrNotFound},
		{"DELETE", "/v1/profiles/nope", nil, 404, agentapi.ErrNotFound},
		{"POST", "/v1/profiles", `{"owner":`, 400, agentapi.ErrBadRequest},
		{"POST", "/v1/profiles", `{"owner":"x","admin":true}`, 400, agentapi.ErrBadRequest},
		{"POST", "/v1/profiles", CreateRequest{Owner: "Other", Name: "work"}, 409, agentapi.ErrConflict},
		{"POST", "/v1/profiles", `{"owner":"` + strings.Repeat("a", MaxRequestBody) + `"}`, 413, agentapi.ErrTooLarge},
		{"POST", "/v1/profiles/" + a.ID + "/export", ExportRequest{Format: "zip"}, 400, agentapi.ErrBadRequest},
		{"POST", "/v1/profiles/import", ImportRequest{Data: []byte("junk")}, 400, agentapi.ErrBadRequest},
		{"POST", "/v1/migrate/export", MigrateExportRequest{Passphrase: "short"}, 400, agentapi.ErrBadRequest},
	}
	for _, tc := range errorCases {
		w := call(t, h, tc.method, tc.path, tc.body)
		var e agentapi.Error
		json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != tc.code || e.Code != tc.errCode || e.Message == "" {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, w.Code, w.Body, tc.code, tc.errCode)
		}
	}
	// Export as PKCS#12, import it elsewhere.
	w = call(t, h, "POST", "/v1/profiles/"+a.ID+"/export", ExportRequest{Format: "p12", Password: "pw-1234"})
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/x-pkcs12" {
		t.Fatalf("export: %d %s", w.Code, w.Header())
	}
	p12 := w.Body.Bytes()
	w = call(t, h, "POST", "/v1/profiles/"+a.ID+"/export", ExportRequest{Format: "pem"})
	if !strings.HasPrefix(w.Body.String(), "-----BEGIN CERTIFICATE-----") {
		t.Fatalf("pem export %s", w.Body)
	}
	dst := newTestManager(t, t.TempDir())
	hd := serve(dst)
	w = call(t, hd, "POST", "/v1/profiles/import", ImportRequest{Data: p12, Password: "pw-1234", Name: "Imported"})
	var res ImportResult
	json.Unmarshal(w.Body.Bytes(), &res)
	if w.Code != 200 || len(res.Imported) != 1 || res.Imported[0].Name != "Imported" {
		t.Fatalf("import: %d %s", w.Code, w.Body)
	}
	// Migration through the routes.
	w = call(t, h, "POST", "/v1/migrate/export", MigrateExportRequest{Passphrase: "a long passphrase"})
	if w.Code != 200 {
		t.Fatalf("migrate export %d %s", w.Code, w.Body)
	}
	bundleData := w.Body.Bytes()
	w = call(t, hd, "POST", "/v1/migrate/import", MigrateImportRequest{Data: bundleData, Passphrase: "wrong passphrase"})
	if w.Code != 400 || !strings.Contains(w.Body.String(), "wrong passphrase") {
		t.Fatalf("wrong passphrase: %d %s", w.Code, w.Body)
	}
	w = call(t, hd, "POST", "/v1/migrate/import", MigrateImportRequest{Data: bundleData, Passphrase: "a long passphrase"})
	json.Unmarshal(w.Body.Bytes(), &res)
	if w.Code != 200 || len(res.Imported) != 1 || len(res.Skipped) != 1 {
		t.Fatalf("migrate import: %d %s", w.Code, w.Body)
	}
	if w = call(t, h, "DELETE", "/v1/profiles/"+a.ID, nil); w.Code != 204 {
		t.Fatalf("delete %d", w.Code)
	}
}
