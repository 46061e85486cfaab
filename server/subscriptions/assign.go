package subscriptions

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/mail"
	"github.com/entitle/entitle/server/organizations"
	"github.com/entitle/entitle/server/store"
)

// Assign gives accountID, a member of orgID, a seat of subID: it takes the
// seat with a guarded update (never more than seats), issues the member a
// license of the plan (owned by the member, so their account activation and
// browser sign-in use it) and mails them how to install and activate, all in
// one transaction. Assigning a member who holds a live license of the
// subscription returns that license and changes nothing (created false).
func (s *Service) Assign(ctx context.Context, p authz.Principal, orgID, subID, accountID string) (lic licenses.License, created bool, err error) {
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		// On PostgreSQL, a share lock on the organization orders the
		// assignment with a removal of the member (which locks it for
		// update, then releases the member's seats): the membership read
		// below cannot be one a concurrent removal is about to delete.
		if tx.Dialect() == store.Postgres {
			var id string
			if err := tx.QueryRow(ctx, "SELECT id FROM organizations WHERE id = ? FOR SHARE", orgID).Scan(&id); errors.Is(err, sql.ErrNoRows) {
				return errNoSubscription()
			} else if err != nil {
				return fmt.Errorf("lock organization: %w", err)
			}
		}
		sub, err := lock(ctx, tx, orgID, subID)
		if err != nil {
			return err
		}
		if role, err := organizations.Role(ctx, tx, orgID, accountID); err != nil {
			return err
		} else if role == authz.RoleNone {
			return fault.Errorf(protocol.ErrNotFound, "this account is not a member of the organization; add or invite them first")
		}
		lic, err = liveLicense(ctx, tx, subID, accountID)
		if err == nil {
			created = false
			return nil // already assigned: the same license, no second seat
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		now := s.now()
		if err := usable(sub, now); err != nil {
			return err
		}
		n, err := tx.ExecAffected(ctx, "UPDATE subscriptions SET assigned = assigned + 1 WHERE id = ? AND assigned < seats AND suspended_at IS NULL", subID)
		if err != nil {
			return fmt.Errorf("take a seat: %w", err)
		}
		if n == 0 {
			return fault.Errorf(protocol.ErrNoSeats, "all %d seats of the subscription are assigned; release one, or order more seats", sub.Seats)
		}
		pl, err := loadPlan(ctx, tx, sub.PlanID)
		if err != nil {
			return err
		}
		lic, err = licenses.Insert(ctx, tx, now, accountID, licenses.LicenseSpec{
			Plan:  licenses.Plan{Name: pl.Name, Features: pl.Features, MaxProfiles: pl.MaxProfiles},
			Seats: pl.DevicesPerSeat, TermStart: now, TermEnd: sub.TermEnd, Subscription: true,
			ManagementMode: licenses.ManagedLocalRemote, OrganizationID: orgID, SubscriptionID: subID,
		})
		if fe := (*fault.Error)(nil); errors.As(err, &fe) && fe.Code == protocol.ErrInvalidRequest {
			// The catalog allows what a license does not (longer names,
			// other feature spellings): say whose fix it is.
			return fault.Invalid("plan %s cannot be issued as a license (%s); ask the operator to correct the plan", pl.Code, fe.Message)
		}
		if err != nil {
			return err
		}
		if err := journal.Record(ctx, tx, journal.Entry{At: now, Actor: p.Actor(), Action: "subscription.assign", Target: subID, Organization: orgID,
			Details: map[string]any{"account": accountID, "email": lic.OwnerEmail, "license": lic.ID, "plan": pl.Code, "assigned": sub.Assigned + 1}}); err != nil {
			return err
		}
		org, locale, err := orgNameLocale(ctx, tx, orgID, accountID)
		if err != nil {
			return err
		}
		created = true
		_, err = mail.Enqueue(ctx, tx, now, mail.Message{
			Key: "assignment:" + lic.ID, Kind: mail.KindAssignment, To: lic.OwnerEmail, Locale: locale, Organization: orgID,
			Args: map[string]string{"organization": org, "plan": pl.Name, "install_url": s.install, "license_key": lic.Key},
		})
		return err
	})
	if err != nil {
		return licenses.License{}, false, err
	}
	return lic, created, nil
}

// usable reports why a subscription cannot take an assignment now.
func usable(sub Subscription, now time.Time) error {
	if !sub.Suspended.IsZero() {
		return fault.Errorf(protocol.ErrLicenseSuspended, "the subscription is suspended; contact the vendor")
	}
	if !now.Before(sub.TermEnd) {
		return fault.Errorf(protocol.ErrLicenseExpired, "the subscription's term ended on %s; renew it first", sub.TermEnd.Format("2 January 2006"))
	}
	return nil
}

// liveLicense is the member's live license of the subscription, or
// sql.ErrNoRows.
func liveLicense(ctx context.Context, tx *store.Tx, subID, accountID string) (licenses.License, error) {
	lic, err := licenses.Scan(tx.QueryRow(ctx, "SELECT "+licenses.Cols+licenses.From+
		" WHERE l.subscription_id = ? AND l.owner_account_id = ? AND l.revoked_at IS NULL", subID, accountID))
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return licenses.License{}, fmt.Errorf("look up assignment: %w", err)
	}
	return lic, err
}

// orgNameLocale is the organization's name and the language of a mail to
// its member accountID: the one the member chose on the console
// (accounts.locale), else the organization's.
func orgNameLocale(ctx context.Context, tx *store.Tx, orgID, accountID string) (string, string, error) {
	var name, locale string
	if err := tx.QueryRow(ctx, `SELECT o.name, COALESCE((SELECT a.locale FROM accounts a WHERE a.id = ? AND a.locale <> ''), o.default_locale)
		FROM organizations o WHERE o.id = ?`, accountID, orgID).Scan(&name, &locale); err != nil {
		return "", "", fmt.Errorf("look up organization: %w", err)
	}
	return name, locale, nil
}

// Unassign releases accountID's seat of subID: the member's license is
// revoked (never deleted), the seat returns to the pool, the license's
// computers are released (their next check-in answers license_revoked; a
// connected one is nudged at once) and the member is told by mail.
// Unassigning a seat already released changes nothing.
func (s *Service) Unassign(ctx context.Context, p authz.Principal, orgID, subID, accountID string) error {
	var devices []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := lock(ctx, tx, orgID, subID); err != nil {
			return err
		}
		lic, err := liveLicense(ctx, tx, subID, accountID)
		if errors.Is(err, sql.ErrNoRows) {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM licenses WHERE subscription_id = ? AND owner_account_id = ?", subID, accountID).Scan(&n); err != nil {
				return fmt.Errorf("look up assignment: %w", err)
			}
			if n > 0 {
				return nil // released before: a retry
			}
			return fault.Errorf(protocol.ErrNotFound, "this account holds no seat of the subscription")
		}
		if err != nil {
			return err
		}
		devices, err = s.revoke(ctx, tx, p.Actor(), lic, true)
		return err
	})
	if err != nil {
		return err
	}
	s.nudge(ctx, devices)
	return nil
}

// revoke withdraws a live license in tx: revoked_at, the seat back to its
// subscription (locked by the caller), its computers released, the member
// told by mail, and, when journaled, the subscription.unassign row. It
// returns the released computers.
func (s *Service) revoke(ctx context.Context, tx *store.Tx, actor string, lic licenses.License, journaled bool) ([]string, error) {
	now := s.now()
	if _, err := tx.Exec(ctx, "UPDATE licenses SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", store.Millis(now), lic.ID); err != nil {
		return nil, fmt.Errorf("revoke license: %w", err)
	}
	if _, err := tx.Exec(ctx, "UPDATE subscriptions SET assigned = assigned - 1 WHERE id = ? AND assigned > 0", lic.SubscriptionID); err != nil {
		return nil, fmt.Errorf("release seat: %w", err)
	}
	devices, err := activeDevices(ctx, tx, lic.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range devices {
		if err := s.release(ctx, tx, d, actor, "device.release", map[string]any{"reason": protocol.ErrLicenseRevoked}); err != nil {
			return nil, err
		}
	}
	if journaled {
		if err := journal.Record(ctx, tx, journal.Entry{At: now, Actor: actor, Action: "subscription.unassign", Target: lic.SubscriptionID,
			Organization: lic.OrganizationID, Details: map[string]any{"account": lic.OwnerAccountID, "email": lic.OwnerEmail, "license": lic.ID,
				"devices": len(devices)}}); err != nil {
			return nil, err
		}
	}
	org, locale, err := orgNameLocale(ctx, tx, lic.OrganizationID, lic.OwnerAccountID)
	if err != nil {
		return nil, err
	}
	if _, err := mail.Enqueue(ctx, tx, now, mail.Message{
		Key: "license_revoked:" + lic.ID, Kind: mail.KindLicenseRevoked, To: lic.OwnerEmail, Locale: locale, Organization: lic.OrganizationID,
		Args: map[string]string{"organization": org, "plan": lic.Plan.Name},
	}); err != nil {
		return nil, err
	}
	return devices, nil
}

func activeDevices(ctx context.Context, tx *store.Tx, licenseID string) ([]string, error) {
	return deviceIDs(ctx, tx, "SELECT id FROM devices WHERE license_id = ? AND deactivated_at IS NULL ORDER BY id", licenseID)
}

func deviceIDs(ctx context.Context, tx *store.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// MemberRemoved releases, in tx, every seat accountID holds in orgID's
// subscriptions (organizations.Service.OnMemberRemoved); it returns the
// revoked licenses. Its rows are the devices' releases: the member's
// removal row (org.member.remove) lists the licenses. The computers learn
// at their next check-in.
func (s *Service) MemberRemoved(ctx context.Context, tx *store.Tx, orgID, accountID string) ([]string, error) {
	rows, err := tx.Query(ctx, "SELECT subscription_id FROM licenses WHERE organization_id = ? AND owner_account_id = ? AND subscription_id IS NOT NULL AND revoked_at IS NULL ORDER BY subscription_id",
		orgID, accountID)
	if err != nil {
		return nil, fmt.Errorf("list assignments: %w", err)
	}
	var subs []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list assignments: %w", err)
		}
		subs = append(subs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list assignments: %w", err)
	}
	var released []string
	for _, subID := range subs {
		if _, err := lock(ctx, tx, orgID, subID); err != nil {
			return nil, err
		}
		lic, err := liveLicense(ctx, tx, subID, accountID)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if _, err := s.revoke(ctx, tx, "system", lic, false); err != nil {
			return nil, err
		}
		released = append(released, lic.ID)
	}
	return released, nil
}

// ErrSeatsAssigned is the refusal of fewer seats than are assigned.
func errSeatsAssigned(assigned int) *fault.Error {
	return fault.Errorf(adminapi.ErrSeatsAssigned, "%d seats are assigned; release the assigned license first", assigned)
}
