package httpapi

import (
	"errors"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/fault"
)

// ServiceError returns the protocol error for an error a server domain
// classified, and false for anything else (which must not reach clients).
func ServiceError(err error) (*protocol.Error, bool) {
	var le *fault.Error
	if errors.As(err, &le) {
		return apiError(le.Code, le.Message), true
	}
	return nil, false
}
