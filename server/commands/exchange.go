package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// Exchange is the commands part of a check-in: it records the outcomes the
// computer reports and returns its open commands, marking the pending ones
// delivered. A report for a command that is not open (already reported,
// expired, someone else's) changes nothing, so a report sent twice is
// harmless. A command delivered before and not yet reported is delivered
// again: the agent remembers what it ran and reports it again.
func (s *Service) Exchange(ctx context.Context, deviceID string, results []protocol.CommandResult) ([]protocol.Command, error) {
	now := s.now()
	var out []protocol.Command
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		out = nil
		if err := s.record(ctx, tx, deviceID, results, now); err != nil {
			return err
		}
		var err error
		out, err = s.deliver(ctx, tx, deviceID, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) record(ctx context.Context, tx *store.Tx, deviceID string, results []protocol.CommandResult, now time.Time) error {
	ms := store.Millis(now)
	for _, r := range results {
		if err := r.Validate(); err != nil {
			continue // the HTTP layer refuses these; never trust it twice
		}
		n, err := tx.ExecAffected(ctx, `UPDATE device_commands SET status = ?, result_code = ?, result_args = ?, completed_at = ?
			WHERE id = ? AND device_id = ? AND status IN ('pending', 'delivered')`,
			r.Status, r.Code, argsJSON(r.Args), ms, r.ID, deviceID)
		if err != nil {
			return fmt.Errorf("record command result: %w", err)
		}
		if n == 0 {
			continue
		}
		if err := s.closed(ctx, tx, deviceID); err != nil {
			return err
		}
		details := map[string]any{"device": deviceID}
		if r.Code != "" {
			details["code"] = r.Code
		}
		if err := journal.Record(ctx, tx, journal.Entry{At: now, Actor: "device:" + deviceID, Organization: s.orgOf(ctx, tx, r.ID),
			Action: "command." + r.Status, Target: r.ID, Details: details}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) closed(ctx context.Context, tx *store.Tx, deviceID string) error {
	if _, err := tx.Exec(ctx, "UPDATE devices SET open_commands = open_commands - 1 WHERE id = ? AND open_commands > 0", deviceID); err != nil {
		return fmt.Errorf("count closed command: %w", err)
	}
	return nil
}

func (s *Service) orgOf(ctx context.Context, tx *store.Tx, id string) string {
	var org string
	_ = tx.QueryRow(ctx, "SELECT organization_id FROM device_commands WHERE id = ?", id).Scan(&org)
	return org
}

func (s *Service) deliver(ctx context.Context, tx *store.Tx, deviceID string, now time.Time) ([]protocol.Command, error) {
	ms := store.Millis(now)
	rows, err := tx.Query(ctx, `SELECT id, type, args, status, expires_at, organization_id FROM device_commands
		WHERE device_id = ? AND status IN ('pending', 'delivered') AND expires_at > ? ORDER BY created_at, id LIMIT ?`,
		deviceID, ms, protocol.MaxCommandsPerCheckin)
	if err != nil {
		return nil, fmt.Errorf("list open commands: %w", err)
	}
	type open struct {
		cmd         protocol.Command
		status, org string
	}
	var list []open
	for rows.Next() {
		var (
			o       open
			args    string
			expires int64
		)
		if err := rows.Scan(&o.cmd.ID, &o.cmd.Type, &args, &o.status, &expires, &o.org); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read open command: %w", err)
		}
		o.cmd.Args, o.cmd.ExpiresAt = parseArgs(args), expires/1000
		list = append(list, o)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list open commands: %w", err)
	}
	out := make([]protocol.Command, 0, len(list))
	for _, o := range list {
		if o.status == protocol.CommandPending {
			n, err := tx.ExecAffected(ctx, "UPDATE device_commands SET status = 'delivered', delivered_at = ? WHERE id = ? AND status = 'pending'", ms, o.cmd.ID)
			if err != nil {
				return nil, fmt.Errorf("mark command delivered: %w", err)
			}
			if n == 1 {
				if err := journal.Record(ctx, tx, journal.Entry{At: now, Actor: "device:" + deviceID, Organization: o.org,
					Action: "command.delivered", Target: o.cmd.ID, Details: map[string]any{"device": deviceID, "type": o.cmd.Type}}); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, o.cmd)
	}
	return out, nil
}

// Expire marks open commands past their time to live expired, at most
// limit of them, and returns how many it marked. The sweep calls it.
func (s *Service) Expire(ctx context.Context, limit int) (int, error) {
	now := s.now()
	ms := store.Millis(now)
	n := 0
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		n = 0
		rows, err := tx.Query(ctx, `SELECT id, device_id, organization_id FROM device_commands
			WHERE status IN ('pending', 'delivered') AND expires_at <= ? ORDER BY expires_at LIMIT ?`, ms, limit)
		if err != nil {
			return fmt.Errorf("list expired commands: %w", err)
		}
		type exp struct{ id, device, org string }
		var list []exp
		for rows.Next() {
			var e exp
			if err := rows.Scan(&e.id, &e.device, &e.org); err != nil {
				rows.Close()
				return err
			}
			list = append(list, e)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, e := range list {
			k, err := tx.ExecAffected(ctx, `UPDATE device_commands SET status = 'expired', completed_at = ?
				WHERE id = ? AND status IN ('pending', 'delivered')`, ms, e.id)
			if err != nil {
				return fmt.Errorf("expire command: %w", err)
			}
			if k == 0 {
				continue
			}
			if err := s.closed(ctx, tx, e.device); err != nil {
				return err
			}
			if err := journal.Record(ctx, tx, journal.Entry{At: now, Actor: "system", Organization: e.org,
				Action: "command.expired", Target: e.id, Details: map[string]any{"device": e.device}}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
