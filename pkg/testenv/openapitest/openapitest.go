// Package openapitest holds the OpenAPI documents (docs/openapi/*.yaml) to
// what the running programs answer: Load validates a document against the
// OpenAPI specification of the version it declares, and Do sends a real
// request and validates the real response (status documented, content type,
// body schema) and, optionally, the request (parameters, body, security).
//
// It uses github.com/pb33f/libopenapi and libopenapi-validator: they read
// OpenAPI 3.1 (and 3.2) with JSON Schema 2020-12, which the documents use;
// kin-openapi, the other well-kept Go validator, reads 3.0 only.
package openapitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
)

// Load reads the document at path, checks it against the OpenAPI
// specification of its declared version and returns its validator.
func Load(t testing.TB, path string) validator.Validator {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// Parse builds a validator from a document and validates the document.
func Parse(raw []byte) (validator.Validator, error) {
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if _, err := doc.BuildV3Model(); err != nil {
		return nil, fmt.Errorf("build the model: %w", err)
	}
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("not a valid OpenAPI %s document:\n%s", doc.GetVersion(), describe(verrs))
	}
	return v, nil
}

// Mode says what Do validates besides the response.
type Mode int

const (
	ResponseOnly Mode = iota // error cases: the request itself breaks the rules on purpose
	AlsoRequest              // the request must match the document too (parameters, body, security)
)

// Do sends req with c, requires status want, validates the exchange against
// v and returns the response and its body.
func Do(t testing.TB, v validator.Validator, c *http.Client, req *http.Request, want int, mode Mode) (*http.Response, []byte) {
	t.Helper()
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			t.Fatal(err)
		}
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", req.Method, req.URL.Path, resp.StatusCode, want, body)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if reqBody != nil {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	var ok bool
	var verrs []*verrors.ValidationError
	if mode == AlsoRequest {
		ok, verrs = v.ValidateHttpRequestResponse(req, resp)
	} else {
		ok, verrs = v.ValidateHttpResponse(req, resp)
	}
	if !ok {
		t.Errorf("%s %s -> %d (%s) does not match the document:\n%s\nbody: %s", req.Method, req.URL.Path, resp.StatusCode, resp.Header.Get("Content-Type"), describe(verrs), body)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, body
}

func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "  - %s: %s", e.Message, e.Reason)
		if e.SpecLine > 0 {
			fmt.Fprintf(&b, " (line %d)", e.SpecLine)
		}
		for _, se := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s at %s", se.Reason, se.FieldPath)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
