package devices

import (
	"context"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
)

// CheckinSlow is the check-in's slow path, for tests that take it directly.
func (s *Service) CheckinSlow(ctx context.Context, presented string, req protocol.CheckinRequest, now time.Time, profiles any) (protocol.CheckinResponse, error) {
	cred, err := s.credentialOf(ctx, presented)
	if err != nil {
		return protocol.CheckinResponse{}, err
	}
	return s.checkinSlow(ctx, cred, req, now, profiles)
}

// CheckinBatches is how many check-in transactions the batcher has written.
func (s *Service) CheckinBatches() int64 {
	if s.batch == nil {
		return 0
	}
	return s.batch.batches.Load()
}

// PageDevicesQuery is the page query of PageDevices: after is nil for the
// first page, else (released, activated_at ms, id) of the last device shown.
func PageDevicesQuery(licenseIDs []string, released bool, at int64, id string, first bool, limit int) (string, []any) {
	if first {
		return pageDevicesQuery(licenseIDs, nil, limit)
	}
	return pageDevicesQuery(licenseIDs, &deviceKey{released: released, at: at, id: id}, limit)
}
