package devices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/check"
)

// CheckOwner returns nil when deviceID is on one of accountID's licenses,
// and not_found otherwise (someone else's device is reported as missing, so
// device ids cannot be probed).
func (s *Service) CheckOwner(ctx context.Context, accountID, deviceID string) error {
	var owner string
	err := s.db.QueryRow(ctx, "SELECT l.owner_account_id FROM devices d JOIN licenses l ON l.id = d.license_id WHERE d.id = ?", deviceID).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != accountID) {
		return errf(protocol.ErrNotFound, "there is no device %s on your licenses", check.Truncate(deviceID, 64))
	}
	if err != nil {
		return fmt.Errorf("look up device: %w", err)
	}
	return nil
}
