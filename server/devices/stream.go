package devices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// StreamDevice authenticates the device credential of a push stream: it
// returns the active device's id and how many open commands it has (a
// stream that starts with some nudges at once). A deactivated device gets
// errRevoked, an unknown credential errBadCredential. It reads only.
func (s *Service) StreamDevice(ctx context.Context, presented string) (string, int, error) {
	cred, err := s.credentialOf(ctx, presented)
	if err != nil {
		return "", 0, err
	}
	var (
		id          string
		open        int
		deactivated sql.NullInt64
	)
	err = s.db.QueryRow(ctx, "SELECT id, open_commands, deactivated_at FROM devices WHERE id = ? AND credential_hash = ?",
		cred.deviceID, cred.hash).Scan(&id, &open, &deactivated)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, errBadCredential()
	}
	if err != nil {
		return "", 0, fmt.Errorf("look up device: %w", err)
	}
	if deactivated.Valid {
		return "", 0, errRevoked(deactivated.Int64)
	}
	return id, open, nil
}
