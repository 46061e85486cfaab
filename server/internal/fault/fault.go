// Package fault is the server's classified error: an error a client should
// see carries a protocol.Err* code and a message; any other error is internal
// and must be reported to clients as protocol.ErrInternal without its text.
// Every server domain package returns these.
package fault

import (
	"errors"
	"fmt"

	"github.com/entitle/entitle/pkg/protocol"
)

// Error is an error a client should see.
type Error struct {
	Code    string // protocol.Err*
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is an invalid_request *Error.
func Invalid(format string, args ...any) *Error {
	return Errorf(protocol.ErrInvalidRequest, format, args...)
}

// CodeOf returns the protocol code of err: its *Error code, or
// protocol.ErrInternal for anything else.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return protocol.ErrInternal
}

// Is reports whether err is an *Error with code.
func Is(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Wire turns a wire type's Validate refusal (a *protocol.Error) into an
// *Error with its code and message; other errors pass as they are.
func Wire(err error) error {
	if pe, ok := errors.AsType[*protocol.Error](err); ok {
		return Errorf(pe.Code, "%s", pe.Message)
	}
	return err
}
