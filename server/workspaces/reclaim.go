package workspaces

import (
	"context"
	"fmt"
	"time"

	"github.com/entitle/entitle/server/store"
)

// Reclaim releases, in every workspace with a reclaim policy, the computers
// not seen for its number of days: at most limit of them per call (the
// sweep calls it again). A returning computer is told at its next check-in
// that it was deactivated, and activates again as any other. It returns how
// many it released.
func (s *Service) Reclaim(ctx context.Context, limit int) (int, error) {
	now := s.now()
	rows, err := s.db.Query(ctx, `SELECT d.id, w.id, w.organization_id, w.reclaim_after_days, d.last_seen_at
		FROM workspaces w JOIN devices d ON d.license_id = w.license_id
		WHERE w.reclaim_after_days > 0 AND d.deactivated_at IS NULL
		AND d.last_seen_at < CAST(? AS BIGINT) - w.reclaim_after_days * CAST(86400000 AS BIGINT)
		ORDER BY d.last_seen_at LIMIT ?`, store.Millis(now), limit)
	if err != nil {
		return 0, fmt.Errorf("find idle computers: %w", err)
	}
	type idle struct {
		device, workspace, org string
		days                   int
		seen                   int64
	}
	var list []idle
	for rows.Next() {
		var i idle
		if err := rows.Scan(&i.device, &i.workspace, &i.org, &i.days, &i.seen); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, i)
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	n := 0
	for _, i := range list {
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			// Seen again since the query: spared.
			var seen int64
			if err := tx.QueryRow(ctx, "SELECT last_seen_at FROM devices WHERE id = ?", i.device).Scan(&seen); err != nil {
				return err
			}
			if seen >= store.Millis(now.Add(-time.Duration(i.days)*24*time.Hour)) {
				return nil
			}
			n++
			return s.release(ctx, tx, i.device, "system", "device.reclaim", map[string]any{
				"workspace": i.workspace, "idle_days": i.days, "last_seen": store.FromMillis(seen).Format(time.RFC3339)})
		})
		if err != nil {
			return n, fmt.Errorf("reclaim %s: %w", i.device, err)
		}
	}
	return n, nil
}
