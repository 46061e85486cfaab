package devices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// RenameOrgDevice sets the display name an administrator gives one of the
// organization's computers ("" clears it); the caller validated the name
// (adminapi.RenameDeviceRequest). Setting the name it has changes nothing
// and writes no journal row.
func (s *Service) RenameOrgDevice(ctx context.Context, actor, orgID, deviceID, name string) (OrgDevice, error) {
	if err := check.Secret("device id", deviceID); err != nil {
		return OrgDevice{}, err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var old string
		if err := tx.QueryRow(ctx, "SELECT name FROM devices WHERE id = ? AND organization_id = ? AND organization_id <> ''"+tx.ForUpdate(),
			deviceID, orgID).Scan(&old); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errNoOrgDevice(deviceID)
			}
			return fmt.Errorf("look up device: %w", err)
		}
		if old == name {
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE devices SET name = ? WHERE id = ?", name, deviceID); err != nil {
			return fmt.Errorf("rename device: %w", err)
		}
		return journal.Record(ctx, tx, journal.Entry{At: s.now(), Actor: actor, Organization: orgID, Action: "device.rename",
			Target: deviceID, Details: map[string]any{"name": name, "previous": old}})
	})
	if err != nil {
		return OrgDevice{}, err
	}
	return s.OrgDevice(ctx, orgID, deviceID)
}

// ReleaseOrgDevice is an administrator freeing the seat of one of the
// organization's computers (a lost or retired one). Releasing a released
// device changes nothing. The caller nudges the computer's push stream.
func (s *Service) ReleaseOrgDevice(ctx context.Context, actor, orgID, deviceID string) error {
	if err := check.Secret("device id", deviceID); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, "SELECT 1 FROM devices WHERE id = ? AND organization_id = ? AND organization_id <> ''",
			deviceID, orgID).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errNoOrgDevice(deviceID)
			}
			return fmt.Errorf("look up device: %w", err)
		}
		return s.ReleaseIn(ctx, tx, deviceID, actor, "device.release", nil)
	})
}
