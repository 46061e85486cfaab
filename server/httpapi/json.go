package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi/httpmw"
)

// apiError builds the protocol error for code with a human-readable message.
func apiError(code, msg string) *protocol.Error { return &protocol.Error{Code: code, Message: msg} }

// decodeJSON reads exactly one JSON object of at most protocol.MaxBodyBytes
// into v, refusing unknown fields and trailing data so that a client's typo is
// reported instead of silently ignored.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) *protocol.Error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return apiError(protocol.ErrInvalidRequest, "Content-Type must be application/json")
	}
	if r.ContentLength > protocol.MaxBodyBytes {
		return apiError(protocol.ErrTooLarge, fmt.Sprintf("request body is over %d bytes", protocol.MaxBodyBytes))
	}
	body := http.MaxBytesReader(w, r.Body, protocol.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			if pe := decodeError(err); pe.Code == protocol.ErrTooLarge {
				return pe
			}
		}
		return apiError(protocol.ErrInvalidRequest, "request body must hold exactly one JSON object")
	}
	return nil
}

func decodeError(err error) *protocol.Error {
	var tooBig *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return apiError(protocol.ErrTooLarge, fmt.Sprintf("request body is over %d bytes", protocol.MaxBodyBytes))
	case errors.Is(err, io.EOF):
		return apiError(protocol.ErrInvalidRequest, "request body is empty")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return apiError(protocol.ErrInvalidRequest, "request body is not valid JSON")
	case errors.As(err, &typ):
		return apiError(protocol.ErrInvalidRequest, fmt.Sprintf("field %q has the wrong type", typ.Field))
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		// encoding/json has no typed error for unknown fields; its message
		// names only the field, never a value, so it is safe to echo.
		return apiError(protocol.ErrInvalidRequest, strings.TrimPrefix(err.Error(), "json: "))
	default:
		return apiError(protocol.ErrInvalidRequest, "request body could not be read")
	}
}

// writeJSON sends v with the given status. Responses may carry credentials
// and leases, so they are never cacheable (SecurityHeaders sets no-store).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"internal","message":"internal server error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeError sends a protocol error with the status protocol.HTTPStatus gives.
func writeError(w http.ResponseWriter, pe *protocol.Error) {
	if pe.Code == protocol.ErrInvalidCredentials {
		w.Header().Set("WWW-Authenticate", `Bearer realm="entitle"`)
	}
	if pe.Code == protocol.ErrBusy {
		w.Header().Set("Retry-After", "2")
	}
	status := protocol.HTTPStatus(pe.Code)
	if st, ok := adminapi.HTTPStatus(pe.Code); ok {
		status = st
	}
	writeJSON(w, status, pe)
}

// failure converts a service error into the response. Errors the service
// classified (*fault.Error) are shown to the client as they are; anything
// else is logged with the request id and hidden behind a generic message.
func (s *Server) failure(w http.ResponseWriter, r *http.Request, op string, err error) {
	writeError(w, s.toProtocol(r.Context(), op, err))
}

func (s *Server) toProtocol(ctx context.Context, op string, err error) *protocol.Error {
	if pe, ok := ServiceError(err); ok {
		return pe
	}
	if errors.Is(err, context.Canceled) {
		return apiError(protocol.ErrInternal, "request was canceled")
	}
	s.logger.LogAttrs(ctx, slog.LevelError, "request failed",
		slog.String("op", op), slog.String("request_id", httpmw.FromContext(ctx).ID), slog.Any("error", err))
	return apiError(protocol.ErrInternal, "internal server error")
}

// maxBearerLen bounds an Authorization header's token before any lookup.
const maxBearerLen = 1024

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	if tok == "" || len(tok) > maxBearerLen || strings.ContainsAny(tok, " \t\r\n") {
		return "", false
	}
	return tok, true
}

// decodeValid decodes the JSON body into req and validates it, writing the
// refusal when either fails.
func decodeValid[T interface{ Validate() error }](w http.ResponseWriter, r *http.Request, req *T) bool {
	if pe := decodeJSON(w, r, req); pe != nil {
		writeError(w, pe)
		return false
	}
	if err := (*req).Validate(); err != nil {
		writeError(w, validationError(err))
		return false
	}
	return true
}
