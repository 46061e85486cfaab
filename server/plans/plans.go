// Package plans is the operator's catalog of plans: what an organization can
// order (a code, a name, the features and profile limit its licenses carry,
// how many computers a seat covers, the term and the price of a seat). A plan
// is never deleted: deactivating takes it out of the catalog, while orders
// and subscriptions that name it keep it. Every change writes its journal row
// (server-wide chain) in its transaction.
package plans

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/column"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// Plan is a plan of the catalog.
type Plan struct {
	ID, Code, Name string
	Features       []string
	MaxProfiles    int
	DevicesPerSeat int
	TermMonths     int
	SeatPriceCents int64
	Currency       string
	Active         bool
	Created        time.Time
}

// Service is the catalog over a store.DB.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// New returns a Service; now defaults to time.Now.
func New(db *store.DB, now func() time.Time) (*Service, error) {
	if db == nil {
		return nil, errors.New("plans: nil database")
	}
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, now: now}, nil
}

func errNotFound(id string) *fault.Error {
	return fault.Errorf(protocol.ErrNotFound, "no plan %s", id)
}

// Create adds a plan to the catalog (active).
func (s *Service) Create(ctx context.Context, actor string, r adminapi.CreatePlanRequest) (Plan, error) {
	r = r.Defaults()
	if err := r.Validate(); err != nil {
		return Plan{}, fault.Wire(err)
	}
	id, err := ids.New("plan")
	if err != nil {
		return Plan{}, err
	}
	now := store.FromMillis(store.Millis(s.now()))
	p := Plan{ID: id, Code: r.Code, Name: r.Name, Features: r.Features, MaxProfiles: r.MaxProfiles, DevicesPerSeat: r.DevicesPerSeat,
		TermMonths: r.TermMonths, SeatPriceCents: r.SeatPriceCents, Currency: r.Currency, Active: true, Created: now}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO plans (id, code, name, features, max_profiles, devices_per_seat, term_months, seat_price_cents,
			currency, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Code, p.Name, column.JSON(p.Features), p.MaxProfiles, p.DevicesPerSeat, p.TermMonths, p.SeatPriceCents, p.Currency, true,
			store.Millis(now))
		if store.IsUniqueViolation(err) {
			return fault.Errorf(adminapi.ErrPlanCodeTaken, "another plan has the code %s", p.Code)
		}
		if err != nil {
			return fmt.Errorf("create plan: %w", err)
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: "plan.create", Target: p.ID,
			Details: map[string]any{"code": p.Code, "seat_price_cents": p.SeatPriceCents, "currency": p.Currency, "term_months": p.TermMonths}})
	})
	if err != nil {
		return Plan{}, err
	}
	return p, nil
}

const cols = "id, code, name, features, max_profiles, devices_per_seat, term_months, seat_price_cents, currency, active, created_at"

type scanner interface{ Scan(dest ...any) error }

func scan(row scanner) (Plan, error) {
	var (
		p        Plan
		features string
		created  int64
	)
	if err := row.Scan(&p.ID, &p.Code, &p.Name, &features, &p.MaxProfiles, &p.DevicesPerSeat, &p.TermMonths, &p.SeatPriceCents,
		&p.Currency, &p.Active, &created); err != nil {
		return Plan{}, err
	}
	if err := json.Unmarshal([]byte(features), &p.Features); err != nil {
		return Plan{}, fmt.Errorf("plan %s: features: %w", p.ID, err)
	}
	p.Created = store.FromMillis(created)
	return p, nil
}

// Lookup reads a plan within tx (orders copy its price into a line).
func Lookup(ctx context.Context, tx *store.Tx, id string) (Plan, error) {
	p, err := scan(tx.QueryRow(ctx, "SELECT "+cols+" FROM plans WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Plan{}, errNotFound(id)
	}
	if err != nil {
		return Plan{}, fmt.Errorf("look up plan: %w", err)
	}
	return p, nil
}

// Get returns a plan, active or not.
func (s *Service) Get(ctx context.Context, id string) (Plan, error) {
	p, err := scan(s.db.QueryRow(ctx, "SELECT "+cols+" FROM plans WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Plan{}, errNotFound(id)
	}
	if err != nil {
		return Plan{}, fmt.Errorf("get plan: %w", err)
	}
	return p, nil
}

// List pages the catalog, oldest first: every plan, or with activeOnly the
// ones an organization can order.
func (s *Service) List(ctx context.Context, activeOnly bool, req paging.Request) (paging.Page[Plan], error) {
	key, err := paging.Decode(req.Cursor, 2)
	if err != nil {
		return paging.Page[Plan]{}, fault.Invalid("%v", err)
	}
	n := req.Size()
	where, args := " WHERE 1 = 1", []any{}
	if activeOnly {
		where, args = " WHERE active = ?", append(args, true)
	}
	countArgs := append([]any(nil), args...)
	q := "SELECT " + cols + " FROM plans" + where
	if key != nil {
		after, err := strconv.ParseInt(key[0], 10, 64)
		if err != nil {
			return paging.Page[Plan]{}, fault.Invalid("%v", paging.ErrCursor)
		}
		q += " AND (created_at > ? OR (created_at = ? AND id > ?))"
		args = append(args, after, after, key[1])
	}
	q += " ORDER BY created_at, id LIMIT ?"
	args = append(args, n+1)
	var (
		out   []Plan
		total int64
	)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM plans"+where, countArgs...).Scan(&total); err != nil {
			return fmt.Errorf("count plans: %w", err)
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("list plans: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scan(rows)
			if err != nil {
				return fmt.Errorf("list plans: %w", err)
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	if err != nil {
		return paging.Page[Plan]{}, err
	}
	return paging.Trim(out, n, total, func(p Plan) []string {
		return []string{strconv.FormatInt(store.Millis(p.Created), 10), p.ID}
	}), nil
}

// Update changes a plan. A new price applies to lines written from now on;
// lines already in orders keep the price they copied.
func (s *Service) Update(ctx context.Context, actor, id string, r adminapi.UpdatePlanRequest) (Plan, error) {
	if err := r.Validate(); err != nil {
		return Plan{}, fault.Wire(err)
	}
	var p Plan
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		p, err = scan(tx.QueryRow(ctx, "SELECT "+cols+" FROM plans WHERE id = ?"+tx.ForUpdate(), id))
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound(id)
		}
		if err != nil {
			return fmt.Errorf("update plan: %w", err)
		}
		details := map[string]any{}
		if r.Name != nil {
			p.Name, details["name"] = *r.Name, *r.Name
		}
		if r.Features != nil {
			p.Features, details["features"] = *r.Features, *r.Features
		}
		if r.MaxProfiles != nil {
			p.MaxProfiles, details["max_profiles"] = *r.MaxProfiles, *r.MaxProfiles
		}
		if r.DevicesPerSeat != nil {
			p.DevicesPerSeat, details["devices_per_seat"] = *r.DevicesPerSeat, *r.DevicesPerSeat
		}
		if r.TermMonths != nil {
			p.TermMonths, details["term_months"] = *r.TermMonths, *r.TermMonths
		}
		if r.SeatPriceCents != nil {
			p.SeatPriceCents, details["seat_price_cents"] = *r.SeatPriceCents, *r.SeatPriceCents
		}
		if r.Currency != nil {
			p.Currency, details["currency"] = *r.Currency, *r.Currency
		}
		if r.Active != nil {
			p.Active, details["active"] = *r.Active, *r.Active
		}
		if _, err := tx.Exec(ctx, `UPDATE plans SET name = ?, features = ?, max_profiles = ?, devices_per_seat = ?, term_months = ?,
			seat_price_cents = ?, currency = ?, active = ? WHERE id = ?`,
			p.Name, column.JSON(p.Features), p.MaxProfiles, p.DevicesPerSeat, p.TermMonths, p.SeatPriceCents, p.Currency, p.Active, id); err != nil {
			return fmt.Errorf("update plan: %w", err)
		}
		return journal.Record(ctx, tx, journal.Entry{At: s.now(), Actor: actor, Action: "plan.update", Target: id, Details: details})
	})
	if err != nil {
		return Plan{}, err
	}
	return p, nil
}
