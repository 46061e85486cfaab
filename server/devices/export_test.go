package devices

import (
	"context"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
)

// CheckinSlow is the check-in's slow path, for tests that take it directly.
func (s *Service) CheckinSlow(ctx context.Context, credential string, req protocol.CheckinRequest, now time.Time, profiles any) (protocol.CheckinResponse, error) {
	return s.checkinSlow(ctx, credential, req, now, profiles)
}
