package usage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/entitle/entitle/server/store"
)

// MaxListed bounds the soonest-expiring items an Overview lists; the counts
// are complete.
const MaxListed = 10

// Overview is an organization's situation at one moment, for the console's
// first page.
type Overview struct {
	At           time.Time
	Plans        []PlanSeats // live subscriptions summed per plan, by plan name
	Devices      DeviceCounts
	Licenses     ExpiringLicenses
	Certificates ExpiringCertificates
	Orders       PendingOrders
}

// PlanSeats sums an organization's live subscriptions (term started, not
// ended) of one plan. Free counts the seats that can be assigned now: those
// of suspended subscriptions cannot.
type PlanSeats struct {
	PlanID, PlanCode, PlanName string
	Subscriptions              int
	Suspended                  int // subscriptions suspended
	Seats, Assigned, Free      int
}

// DeviceCounts counts the organization's active computers (not
// deactivated): on its members' licenses from subscriptions and on its
// workspaces' licenses. Suspended: the computer, its license or its
// subscription is suspended. Online: not suspended and seen within twice the
// check-in interval; offline: the others.
type DeviceCounts struct {
	Total, Online, Offline, Suspended int
	// OnlineSince is the check-in time from which a computer counts as
	// online.
	OnlineSince time.Time
}

// ExpiringLicenses are the organization's subscriptions whose term ends
// within ExpiryWindow (the licenses issued from them end with it).
type ExpiringLicenses struct {
	Count int
	Soon  []ExpiringLicense // the MaxListed soonest, soonest first
}

// ExpiringLicense is a subscription coming to its term end.
type ExpiringLicense struct {
	SubscriptionID, PlanID, PlanName string
	Seats, Assigned                  int
	TermEnd                          time.Time
	AutoRenew                        bool
	RenewalOrderID                   string // "" while no renewal order is raised
}

// ExpiringCertificates counts computers by the earliest certificate
// expiry of their signature profiles, as their agents report it with each
// check-in (protocol.ProfileSummary.EarliestCertUntil). The agent reports
// only the earliest date, so a computer with several certificates expiring
// counts once.
type ExpiringCertificates struct {
	Expiring int                   // computers whose earliest certificate ends within ExpiryWindow
	Expired  int                   // computers holding a certificate already expired
	Soon     []ExpiringCertificate // the MaxListed soonest expiring, soonest first
}

// ExpiringCertificate is a computer whose earliest certificate ends soon.
type ExpiringCertificate struct {
	DeviceID, Hostname string
	NotAfter           time.Time
}

// PendingOrders counts the orders waiting on someone: validated (to
// confirm) and confirmed (invoice issued, awaiting payment).
type PendingOrders struct {
	Validated, Confirmed int
}

// Total is every pending order.
func (p PendingOrders) Total() int { return p.Validated + p.Confirmed }

// orgDevices selects the organization's active computers, d joined with
// their license l and its subscription s: arguments org and "org:"+org (the
// owner key of its workspaces). The licenses are found first, by index, then
// their computers (devices_license).
const orgDevices = `FROM devices d JOIN licenses l ON l.id = d.license_id
	LEFT JOIN subscriptions s ON s.id = l.subscription_id
	WHERE d.deactivated_at IS NULL AND d.license_id IN (
		SELECT ol.id FROM licenses ol WHERE ol.organization_id = ?
		UNION SELECT w.license_id FROM workspaces w WHERE w.owner_key = ?)`

// certUntil is the SQL expression of d.profiles' earliest_cert_until (Unix
// seconds; NULL without profiles).
func certUntil(d store.Dialect) string {
	if d == store.Postgres {
		return "CAST(CAST(d.profiles AS json) ->> 'earliest_cert_until' AS BIGINT)"
	}
	return "CAST(json_extract(d.profiles, '$.earliest_cert_until') AS INTEGER)"
}

// Overview sums up the organization at now. An unknown organization has an
// empty overview.
func (s *Service) Overview(ctx context.Context, org string, now time.Time) (Overview, error) {
	ov := Overview{At: now}
	var err error
	if ov.Plans, err = s.planSeats(ctx, org, now); err != nil {
		return ov, err
	}
	if ov.Devices, ov.Certificates, err = s.computers(ctx, org, now); err != nil {
		return ov, err
	}
	if ov.Licenses, err = s.licenses(ctx, org, now); err != nil {
		return ov, err
	}
	if ov.Orders, err = s.orders(ctx, org); err != nil {
		return ov, err
	}
	return ov, nil
}

func (s *Service) planSeats(ctx context.Context, org string, now time.Time) ([]PlanSeats, error) {
	at := store.Millis(now)
	rows, err := s.db.Query(ctx, `SELECT p.id, p.code, p.name, COUNT(*),
		SUM(CASE WHEN s.suspended_at IS NULL THEN 0 ELSE 1 END), SUM(s.seats), SUM(s.assigned),
		SUM(CASE WHEN s.suspended_at IS NULL THEN s.seats - s.assigned ELSE 0 END)
		FROM subscriptions s JOIN plans p ON p.id = s.plan_id
		WHERE s.organization_id = ? AND s.term_start <= ? AND s.term_end > ?
		GROUP BY p.id, p.code, p.name ORDER BY p.name, p.id`, org, at, at)
	if err != nil {
		return nil, fmt.Errorf("usage: seats of %s: %w", org, err)
	}
	defer rows.Close()
	var out []PlanSeats
	for rows.Next() {
		var p PlanSeats
		if err := rows.Scan(&p.PlanID, &p.PlanCode, &p.PlanName, &p.Subscriptions, &p.Suspended, &p.Seats, &p.Assigned, &p.Free); err != nil {
			return nil, fmt.Errorf("usage: seats of %s: %w", org, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("usage: seats of %s: %w", org, err)
	}
	return out, nil
}

// computers counts the organization's computers and their certificates in
// one pass over them (materialized, so each profile summary is parsed
// once), then lists the soonest certificates if any expire.
func (s *Service) computers(ctx context.Context, org string, now time.Time) (DeviceCounts, ExpiringCertificates, error) {
	c := DeviceCounts{OnlineSince: now.Add(-2 * s.interval)}
	var e ExpiringCertificates
	cert := certUntil(s.db.Dialect())
	nowS, endS := now.Unix(), now.Add(ExpiryWindow).Unix()
	err := s.db.QueryRow(ctx, `WITH x AS MATERIALIZED (SELECT
			CASE WHEN d.suspended_at IS NOT NULL OR l.suspended = TRUE OR s.suspended_at IS NOT NULL THEN 1 ELSE 0 END AS susp,
			d.last_seen_at AS seen, `+cert+` AS c `+orgDevices+`)
		SELECT COUNT(*), COALESCE(SUM(susp), 0),
			COALESCE(SUM(CASE WHEN susp = 0 AND seen >= ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN c > ? AND c <= ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN c > 0 AND c <= ? THEN 1 ELSE 0 END), 0)
		FROM x`, org, "org:"+org, store.Millis(c.OnlineSince), nowS, endS, nowS).
		Scan(&c.Total, &c.Suspended, &c.Online, &e.Expiring, &e.Expired)
	if err != nil {
		return c, e, fmt.Errorf("usage: computers of %s: %w", org, err)
	}
	c.Offline = c.Total - c.Suspended - c.Online
	if e.Expiring == 0 {
		return c, e, nil
	}
	rows, err := s.db.Query(ctx, `WITH x AS MATERIALIZED (SELECT d.id AS id, d.hostname AS host, `+cert+` AS c `+orgDevices+`)
		SELECT id, host, c FROM x WHERE c > ? AND c <= ? ORDER BY c, id LIMIT ?`, org, "org:"+org, nowS, endS, MaxListed)
	if err != nil {
		return c, e, fmt.Errorf("usage: certificates of %s: %w", org, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			x     ExpiringCertificate
			until int64
		)
		if err := rows.Scan(&x.DeviceID, &x.Hostname, &until); err != nil {
			return c, e, fmt.Errorf("usage: certificates of %s: %w", org, err)
		}
		x.NotAfter = time.Unix(until, 0).UTC()
		e.Soon = append(e.Soon, x)
	}
	if err := rows.Err(); err != nil {
		return c, e, fmt.Errorf("usage: certificates of %s: %w", org, err)
	}
	return c, e, nil
}

func (s *Service) licenses(ctx context.Context, org string, now time.Time) (ExpiringLicenses, error) {
	var l ExpiringLicenses
	at, end := store.Millis(now), store.Millis(now.Add(ExpiryWindow))
	const where = ` FROM subscriptions s JOIN plans p ON p.id = s.plan_id
		WHERE s.organization_id = ? AND s.term_end > ? AND s.term_end <= ?`
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*)"+where, org, at, end).Scan(&l.Count); err != nil {
		return l, fmt.Errorf("usage: expiring licenses of %s: %w", org, err)
	}
	if l.Count == 0 {
		return l, nil
	}
	rows, err := s.db.Query(ctx, `SELECT s.id, p.id, p.name, s.seats, s.assigned, s.term_end, s.auto_renew, s.renewal_order_id`+
		where+` ORDER BY s.term_end, s.id LIMIT ?`, org, at, end, MaxListed)
	if err != nil {
		return l, fmt.Errorf("usage: expiring licenses of %s: %w", org, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			e       ExpiringLicense
			termEnd int64
			renewal sql.NullString
		)
		if err := rows.Scan(&e.SubscriptionID, &e.PlanID, &e.PlanName, &e.Seats, &e.Assigned, &termEnd, &e.AutoRenew, &renewal); err != nil {
			return l, fmt.Errorf("usage: expiring licenses of %s: %w", org, err)
		}
		e.TermEnd, e.RenewalOrderID = store.FromMillis(termEnd), renewal.String
		l.Soon = append(l.Soon, e)
	}
	if err := rows.Err(); err != nil {
		return l, fmt.Errorf("usage: expiring licenses of %s: %w", org, err)
	}
	return l, nil
}

func (s *Service) orders(ctx context.Context, org string) (PendingOrders, error) {
	var p PendingOrders
	err := s.db.QueryRow(ctx, `SELECT
		COALESCE(SUM(CASE WHEN status = 'validated' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'confirmed' THEN 1 ELSE 0 END), 0)
		FROM orders WHERE organization_id = ? AND status IN ('validated', 'confirmed')`, org).Scan(&p.Validated, &p.Confirmed)
	if err != nil {
		return p, fmt.Errorf("usage: pending orders of %s: %w", org, err)
	}
	return p, nil
}
