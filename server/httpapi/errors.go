package httpapi

import (
	"errors"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/licensing"
)

// ServiceError returns the protocol error for an error the licensing service
// classified, and false for anything else (which must not reach clients).
func ServiceError(err error) (*protocol.Error, bool) {
	var le *licensing.Error
	if errors.As(err, &le) {
		return apiError(le.Code, le.Message), true
	}
	return nil, false
}
