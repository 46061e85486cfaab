package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/entitle/entitle/pkg/agentapi"
)

// Body limits of the profile routes. Imports carry base64 file data.
const (
	MaxRequestBody = agentapi.MaxBodyBytes    // create, default, export requests
	MaxImportBody  = 2 << 20                  // one profile file (1 MiB) in base64
	MaxMigrateBody = (64<<20)/3*4 + (1 << 20) // a bundle (64 MiB) in base64
	maxSecretLen   = 1024                     // passwords and passphrases
)

// Paths below the /v1 group.
const (
	routeProfiles = "/profiles"
	routeMigrate  = "/migrate"
)

// ExportRequest is the body of POST /v1/profiles/:id/export.
type ExportRequest struct {
	Format   string `json:"format"`             // p12, pem, pem-chain, der, profile
	Password string `json:"password,omitempty"` // for p12 and profile
}

// ImportRequest is the body of POST /v1/profiles/import.
type ImportRequest struct {
	Data     []byte `json:"data"` // the file, base64 in JSON
	Password string `json:"password,omitempty"`
	Name     string `json:"name,omitempty"`
	Owner    string `json:"owner,omitempty"`
	OnClash  string `json:"on_clash,omitempty"`
	Force    bool   `json:"force,omitempty"` // import a certificate not fit for signing
}

// MigrateExportRequest is the body of POST /v1/migrate/export.
type MigrateExportRequest struct {
	Passphrase string `json:"passphrase"`
}

// MigrateImportRequest is the body of POST /v1/migrate/import.
type MigrateImportRequest struct {
	Data       []byte `json:"data"` // the bundle, base64 in JSON
	Passphrase string `json:"passphrase"`
	OnClash    string `json:"on_clash,omitempty"`
}

// Routes registers the profile routes on g, the token-protected /v1 group
// of the local API:
//
//	GET    /v1/profiles               list
//	POST   /v1/profiles               create (CreateRequest)
//	POST   /v1/profiles/import        import (ImportRequest) -> ImportResult
//	GET    /v1/profiles/:id           one profile
//	DELETE /v1/profiles/:id           delete
//	POST   /v1/profiles/:id/default   make default
//	POST   /v1/profiles/:id/export    file bytes (ExportRequest)
//	POST   /v1/migrate/export         age bundle bytes (MigrateExportRequest)
//	POST   /v1/migrate/import         (MigrateImportRequest) -> ImportResult
func (m *Manager) Routes(g *echo.Group) {
	g.GET(routeProfiles, m.getList)
	g.POST(routeProfiles, m.postCreate)
	g.POST(routeProfiles+"/import", m.postImport)
	g.GET(routeProfiles+"/:id", m.getOne)
	g.DELETE(routeProfiles+"/:id", m.deleteOne)
	g.POST(routeProfiles+"/:id/default", m.postDefault)
	g.POST(routeProfiles+"/:id/export", m.postExport)
	g.POST(routeMigrate+"/export", m.postMigrateExport)
	g.POST(routeMigrate+"/import", m.postMigrateImport)
}

func (m *Manager) limit() int {
	if m.opts.PlanLimit == nil {
		return 0
	}
	return m.opts.PlanLimit()
}

func (m *Manager) getList(c echo.Context) error {
	return c.JSON(http.StatusOK, m.List(m.limit()))
}

func (m *Manager) getOne(c echo.Context) error {
	info, err := m.Get(c.Param("id"), m.limit())
	if err != nil {
		return m.fail(c, err)
	}
	return c.JSON(http.StatusOK, info)
}

func (m *Manager) postCreate(c echo.Context) error {
	var req CreateRequest
	if err := decodeBody(c, &req, MaxRequestBody); err != nil {
		return m.fail(c, err)
	}
	info, err := m.Create(c.Request().Context(), req)
	if err != nil {
		return m.fail(c, err)
	}
	return c.JSON(http.StatusCreated, info)
}

func (m *Manager) deleteOne(c echo.Context) error {
	if err := m.Delete(c.Request().Context(), c.Param("id")); err != nil {
		return m.fail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (m *Manager) postDefault(c echo.Context) error {
	id := c.Param("id")
	if err := m.SetDefault(c.Request().Context(), id); err != nil {
		return m.fail(c, err)
	}
	return m.getOne(c)
}

func (m *Manager) postExport(c echo.Context) error {
	var req ExportRequest
	if err := decodeBody(c, &req, MaxRequestBody); err != nil {
		return m.fail(c, err)
	}
	if len(req.Password) > maxSecretLen {
		return m.fail(c, fmt.Errorf("%w: password too long", ErrBadInput))
	}
	id := c.Param("id")
	data, err := m.ExportProfile(c.Request().Context(), id, req.Format, req.Password)
	if err != nil {
		return m.fail(c, err)
	}
	ct, ext := "application/octet-stream", req.Format
	switch req.Format {
	case FormatPEM:
		ct = "application/x-pem-file"
	case FormatPEMChain:
		ct, ext = "application/x-pem-file", "chain.pem"
	case FormatDER:
		ct = "application/pkix-cert"
	case FormatP12:
		ct = "application/x-pkcs12"
	case FormatProfile:
		ext = "profile.age"
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, id, ext))
	return c.Blob(http.StatusOK, ct, data)
}

func (m *Manager) postImport(c echo.Context) error {
	var req ImportRequest
	if err := decodeBody(c, &req, MaxImportBody); err != nil {
		return m.fail(c, err)
	}
	if len(req.Password) > maxSecretLen {
		return m.fail(c, fmt.Errorf("%w: password too long", ErrBadInput))
	}
	res, err := m.Import(c.Request().Context(), req.Data, req.Password, ImportOptions{Name: req.Name, Owner: req.Owner, OnClash: req.OnClash, Force: req.Force})
	if err != nil {
		return m.fail(c, err)
	}
	return c.JSON(http.StatusOK, res)
}

func (m *Manager) postMigrateExport(c echo.Context) error {
	var req MigrateExportRequest
	if err := decodeBody(c, &req, MaxRequestBody); err != nil {
		return m.fail(c, err)
	}
	if len(req.Passphrase) > maxSecretLen {
		return m.fail(c, fmt.Errorf("%w: passphrase too long", ErrBadInput))
	}
	data, err := m.ExportBundle(c.Request().Context(), req.Passphrase)
	if err != nil {
		return m.fail(c, err)
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="entitle-profiles.age"`)
	return c.Blob(http.StatusOK, "application/octet-stream", data)
}

func (m *Manager) postMigrateImport(c echo.Context) error {
	var req MigrateImportRequest
	if err := decodeBody(c, &req, MaxMigrateBody); err != nil {
		return m.fail(c, err)
	}
	if len(req.Passphrase) > maxSecretLen {
		return m.fail(c, fmt.Errorf("%w: passphrase too long", ErrBadInput))
	}
	res, err := m.ImportBundle(c.Request().Context(), req.Data, req.Passphrase, req.OnClash, ImportOptions{})
	if err != nil {
		return m.fail(c, err)
	}
	return c.JSON(http.StatusOK, res)
}

// errBodyTooLarge marks a request body over its route's limit.
var errBodyTooLarge = errors.New("request body too large")

// decodeBody reads at most limit bytes and decodes exactly one JSON object,
// refusing unknown fields.
func decodeBody(c echo.Context, v any, limit int64) error {
	r := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("%w: over %d bytes", errBodyTooLarge, limit)
		}
		return fmt.Errorf("%w: reading the body: %v", ErrBadInput, err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: malformed JSON body", ErrBadInput)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the JSON body", ErrBadInput)
	}
	return nil
}

// fail writes err as an agentapi.Error. Messages never carry secrets: no
// error of this package includes a password or key material.
func (m *Manager) fail(c echo.Context, err error) error {
	code := agentapi.ErrInternalError
	msg := err.Error()
	switch {
	case errors.Is(err, ErrNotFound):
		code = agentapi.ErrNotFound
	case errors.Is(err, ErrConflict), errors.Is(err, ErrLocked):
		code = agentapi.ErrConflict
	case errors.Is(err, ErrBadInput), errors.Is(err, ErrWrongPassword):
		code = agentapi.ErrBadRequest
	case errors.Is(err, errBodyTooLarge):
		code = agentapi.ErrTooLarge
	default:
		m.log.Error("profiles: request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
		msg = "internal error; see the agent's log"
	}
	return c.JSON(agentapi.HTTPStatus(code), &agentapi.Error{Code: code, Message: msg})
}

// BodyLimits returns the request body caps of the routes whose bodies exceed
// the local API's default cap, by full path, for localapi.Options.BodyLimits.
func BodyLimits() map[string]int64 {
	return map[string]int64{
		"/v1" + routeProfiles + "/import": MaxImportBody,
		"/v1" + routeMigrate + "/import":  MaxMigrateBody,
	}
}
