package organizations

import (
	"context"
	"fmt"
	"time"

	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// sweepBatch bounds the domains one sweep looks up.
const sweepBatch = 100

// SweepDomains looks up again the DNS-verified domains not checked for
// DomainRecheck. A record found clears any failure; a record missing starts
// (or continues) the grace period, past which the domain is unverified
// again. It returns how many domains it checked.
func (s *Service) SweepDomains(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.db.Query(ctx, "SELECT "+domainCols+` FROM domains
		WHERE status = 'verified' AND method = 'dns' AND (checked_at IS NULL OR checked_at <= ?)
		ORDER BY checked_at, id LIMIT ?`, store.Millis(now.Add(-s.cfg.DomainRecheck)), sweepBatch)
	if err != nil {
		return 0, fmt.Errorf("domain sweep: %w", err)
	}
	var due []Domain
	for rows.Next() {
		d, err := scanDomain(rows)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("domain sweep: %w", err)
		}
		due = append(due, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("domain sweep: %w", err)
	}
	for _, d := range due {
		found, err := s.lookup(ctx, d)
		if err != nil {
			// A resolver failure says nothing about the record: try again
			// at the next sweep rather than start the grace period.
			s.log.WarnContext(ctx, "domain re-check failed", "domain", d.Domain, "organization", d.OrganizationID, "error", err)
			continue
		}
		if err := s.recheck(ctx, d, found); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

func (s *Service) recheck(ctx context.Context, d Domain, found bool) error {
	now := s.now()
	ms := store.Millis(now)
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if found {
			_, err := tx.Exec(ctx, "UPDATE domains SET checked_at = ?, failing_since = NULL WHERE organization_id = ? AND id = ? AND status = 'verified'", ms, d.OrganizationID, d.ID)
			return err
		}
		if d.FailingSince.IsZero() || now.Sub(d.FailingSince) < s.cfg.DomainGrace {
			_, err := tx.Exec(ctx, "UPDATE domains SET checked_at = ?, failing_since = COALESCE(failing_since, ?) WHERE organization_id = ? AND id = ? AND status = 'verified'",
				ms, ms, d.OrganizationID, d.ID)
			return err
		}
		n, err := tx.ExecAffected(ctx, `UPDATE domains SET status = 'pending', method = '', verified_at = NULL, checked_at = ?, failing_since = NULL
			WHERE organization_id = ? AND id = ? AND status = 'verified'`, ms, d.OrganizationID, d.ID)
		if err != nil || n == 0 {
			return err
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: "system", Action: "org.domain.unverify", Target: d.ID, Organization: d.OrganizationID,
			Details: map[string]any{"domain": d.Domain, "failing_since": d.FailingSince.UTC().Format(time.RFC3339)}})
	})
}

// RunDomainSweep sweeps every interval until ctx ends; serve runs it in a
// goroutine it waits for on shutdown.
func (s *Service) RunDomainSweep(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.SweepDomains(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "domain sweep", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
