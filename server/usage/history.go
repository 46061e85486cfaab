package usage

import (
	"context"
	"fmt"
	"time"

	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/store"
)

// Snapshot is one subscription's row of one day.
type Snapshot struct {
	Day            time.Time // 00:00 UTC
	SubscriptionID string
	PlanID         string
	Seats          int
	Assigned       int
	ActiveDevices  int
	TakenAt        time.Time
}

// DayTotal sums one day's snapshots.
type DayTotal struct {
	Day           time.Time
	Seats         int
	Assigned      int
	ActiveDevices int
}

// History returns the organization's snapshots of the days from..to (both
// included, as UTC days), by day then subscription. The range is at most
// MaxHistoryDays days; a reversed or longer range is an invalid_request
// error.
func (s *Service) History(ctx context.Context, org string, from, to time.Time) ([]Snapshot, error) {
	from, to = Day(from), Day(to)
	if to.Before(from) {
		return nil, fault.Invalid("the history ends (%s) before it starts (%s)", to.Format(time.DateOnly), from.Format(time.DateOnly))
	}
	if days := int(to.Sub(from)/(24*time.Hour)) + 1; days > MaxHistoryDays {
		return nil, fault.Invalid("the history spans %d days; at most %d", days, MaxHistoryDays)
	}
	rows, err := s.db.Query(ctx, `SELECT day, subscription_id, plan_id, seats, assigned, active_devices, taken_at
		FROM seat_usage WHERE organization_id = ? AND day >= ? AND day <= ?
		ORDER BY day, subscription_id`, org, store.Millis(from), store.Millis(to))
	if err != nil {
		return nil, fmt.Errorf("usage: history of %s: %w", org, err)
	}
	defer rows.Close()
	var out []Snapshot
	for rows.Next() {
		var (
			sn        Snapshot
			day, took int64
		)
		if err := rows.Scan(&day, &sn.SubscriptionID, &sn.PlanID, &sn.Seats, &sn.Assigned, &sn.ActiveDevices, &took); err != nil {
			return nil, fmt.Errorf("usage: history of %s: %w", org, err)
		}
		sn.Day, sn.TakenAt = store.FromMillis(day), store.FromMillis(took)
		out = append(out, sn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("usage: history of %s: %w", org, err)
	}
	return out, nil
}

// Totals sums snapshots (as History orders them: by day) into one total a
// day, over every plan when plan is "" or over that plan's subscriptions.
// Days without a snapshot are absent.
func Totals(snaps []Snapshot, plan string) []DayTotal {
	var out []DayTotal
	for _, sn := range snaps {
		if plan != "" && sn.PlanID != plan {
			continue
		}
		if n := len(out); n == 0 || !out[n-1].Day.Equal(sn.Day) {
			out = append(out, DayTotal{Day: sn.Day})
		}
		t := &out[len(out)-1]
		t.Seats += sn.Seats
		t.Assigned += sn.Assigned
		t.ActiveDevices += sn.ActiveDevices
	}
	return out
}
