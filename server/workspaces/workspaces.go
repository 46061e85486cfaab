// Package workspaces owns workspaces: a named group of computers that holds
// exactly one license and the management mode its computers obey, owned by
// an account or an organization; their enrollment tokens, which let an
// installer activate a computer into the workspace without a person; and the
// seat-reclaim policy that releases computers not seen for N days.
//
// The mode is written through to the license's management_mode (in the same
// transaction), because that is what every lease carries; deleting the
// workspace gives the license back to its owner's personal licenses with the
// mode it had before.
package workspaces

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
)

// Owner is who a workspace belongs to: an account, or an organization.
type Owner struct {
	AccountID      string // the account acting, and the owner of personal workspaces
	OrganizationID string // set: the organization's workspace
}

func (o Owner) key() string {
	if o.OrganizationID != "" {
		return "org:" + o.OrganizationID
	}
	return "account:" + o.AccountID
}

func (o Owner) actor() string { return "account:" + o.AccountID }

// Workspace is a workspace with its license's settings.
type Workspace struct {
	ID, Name, ManagementMode string
	ReclaimAfterDays         int
	License                  licenses.License
	Created                  time.Time
}

// ReleaseFunc frees a device's seat within tx (package devices).
type ReleaseFunc func(ctx context.Context, tx *store.Tx, deviceID, actor, action string, details map[string]any) error

// Config configures a Service.
type Config struct {
	Release ReleaseFunc // required: the seat reclaim frees seats through it
	Now     func() time.Time
	Logger  *slog.Logger
}

// Service is the workspaces domain.
type Service struct {
	db      *store.DB
	release ReleaseFunc
	now     func() time.Time
	log     *slog.Logger
}

// New returns a Service.
func New(db *store.DB, cfg Config) (*Service, error) {
	if db == nil || cfg.Release == nil {
		return nil, errors.New("workspaces: nil database or release")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, release: cfg.Release, now: cfg.Now, log: cfg.Logger}, nil
}

func errf(code, format string, args ...any) *fault.Error { return fault.Errorf(code, format, args...) }

const wsCols = `w.id, w.name, w.management_mode, w.reclaim_after_days, w.created_at, ` + licenses.Cols
const wsFrom = ` FROM workspaces w JOIN licenses l ON l.id = w.license_id JOIN accounts a ON a.id = l.owner_account_id`

type scanner interface{ Scan(...any) error }

func scan(row scanner) (Workspace, error) {
	var (
		w       Workspace
		created int64
	)
	dest := []any{&w.ID, &w.Name, &w.ManagementMode, &w.ReclaimAfterDays, &created}
	lic, err := licenses.ScanWith(row, dest...)
	if err != nil {
		return Workspace{}, err
	}
	w.License, w.Created = lic, store.FromMillis(created)
	return w, nil
}

// ownLicenseLocked returns the license id names if owner may put it in a
// workspace: the account's own license, not in another workspace.
func ownLicenseLocked(ctx context.Context, tx *store.Tx, owner Owner, licenseID string) (licenses.License, error) {
	lic, err := licenses.Scan(tx.QueryRow(ctx, "SELECT "+licenses.Cols+licenses.From+" WHERE l.id = ?"+licenses.Lock(tx), licenseID))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && lic.OwnerAccountID != owner.AccountID) {
		return licenses.License{}, errf(protocol.ErrNotFound, "there is no license %s among yours", check.Truncate(licenseID, 64))
	}
	if err != nil {
		return licenses.License{}, fmt.Errorf("look up license: %w", err)
	}
	return lic, nil
}

// Create makes a workspace holding licenseID.
func (s *Service) Create(ctx context.Context, owner Owner, req accountapi.WorkspaceRequest) (Workspace, error) {
	if err := req.Validate(true); err != nil {
		return Workspace{}, invalid(err)
	}
	name, key, _ := accountapi.NormalizeWorkspaceName(req.Name)
	mode := req.ManagementMode
	if mode == "" {
		mode = accountapi.ModeLocalRemote
	}
	reclaim := 0
	if req.ReclaimAfterDays != nil {
		reclaim = *req.ReclaimAfterDays
	}
	id, err := ids.New("ws")
	if err != nil {
		return Workspace{}, err
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		lic, err := freeLicenseLocked(ctx, tx, owner, req.LicenseID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO workspaces (id, owner_key, organization_id, name, name_key, license_id, management_mode,
			previous_mode, reclaim_after_days, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, owner.key(), owner.OrganizationID, name, key, lic.ID, mode, lic.ManagementMode, reclaim, store.Millis(now))
		if err := uniqueness(err, name); err != nil {
			return err
		}
		if err := setLicenseMode(ctx, tx, lic.ID, mode); err != nil {
			return err
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: owner.actor(), Organization: owner.OrganizationID,
			Action: "workspace.create", Target: id, Details: map[string]any{"name": name, "license": lic.ID, "mode": mode}})
	})
	if err != nil {
		return Workspace{}, err
	}
	return s.Get(ctx, owner, id)
}

// uniqueness turns an insert or update error into the refusal it means:
// the license was checked free under its lock, so a unique violation is
// the name.
func uniqueness(err error, name string) error {
	if err == nil {
		return nil
	}
	if !store.IsUniqueViolation(err) {
		return fmt.Errorf("write workspace: %w", err)
	}
	return errf(protocol.ErrWorkspaceNameTaken, "a workspace named %q exists already; choose another name", name)
}

// freeLicenseLocked is ownLicenseLocked for a license no workspace holds.
func freeLicenseLocked(ctx context.Context, tx *store.Tx, owner Owner, licenseID string) (licenses.License, error) {
	lic, err := ownLicenseLocked(ctx, tx, owner, licenseID)
	if err != nil {
		return licenses.License{}, err
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM workspaces WHERE license_id = ?", lic.ID).Scan(&n); err != nil {
		return licenses.License{}, fmt.Errorf("look up license workspace: %w", err)
	}
	if n > 0 {
		return licenses.License{}, errf(protocol.ErrLicenseInWorkspace,
			"license %s is already in a workspace; delete that workspace or reassign it another license first", licenses.ShortKey(lic.Key))
	}
	return lic, nil
}

// invalid makes a wire type's Validate error the domain's refusal.
func invalid(err error) error {
	if pe, ok := errors.AsType[*protocol.Error](err); ok {
		return fault.Invalid("%s", pe.Message)
	}
	return fault.Invalid("%v", err)
}

func setLicenseMode(ctx context.Context, tx *store.Tx, licenseID, mode string) error {
	if _, err := tx.Exec(ctx, "UPDATE licenses SET management_mode = ? WHERE id = ?", mode, licenseID); err != nil {
		return fmt.Errorf("set license management mode: %w", err)
	}
	return nil
}

// Get returns one of owner's workspaces.
func (s *Service) Get(ctx context.Context, owner Owner, id string) (Workspace, error) {
	w, err := scan(s.db.QueryRow(ctx, "SELECT "+wsCols+wsFrom+" WHERE w.id = ? AND w.owner_key = ?", id, owner.key()))
	if errors.Is(err, sql.ErrNoRows) {
		return Workspace{}, errf(protocol.ErrNotFound, "there is no workspace %s", check.Truncate(id, 64))
	}
	if err != nil {
		return Workspace{}, fmt.Errorf("read workspace: %w", err)
	}
	return w, nil
}

// List pages through owner's workspaces, oldest first.
func (s *Service) List(ctx context.Context, owner Owner, req paging.Request) (paging.Page[Workspace], error) {
	if err := req.Validate(); err != nil {
		return paging.Page[Workspace]{}, fault.Invalid("%v", err)
	}
	key, err := paging.Decode(req.Cursor, 2)
	if err != nil {
		return paging.Page[Workspace]{}, fault.Invalid("%v", err)
	}
	var total int64
	if err := s.db.QueryRow(ctx, "SELECT count(*) FROM workspaces WHERE owner_key = ?", owner.key()).Scan(&total); err != nil {
		return paging.Page[Workspace]{}, fmt.Errorf("count workspaces: %w", err)
	}
	q := "SELECT " + wsCols + wsFrom + " WHERE w.owner_key = ?"
	args := []any{owner.key()}
	if key != nil {
		at, err := strconv.ParseInt(key[0], 10, 64)
		if err != nil {
			return paging.Page[Workspace]{}, fault.Invalid("%v", paging.ErrCursor)
		}
		q += " AND (w.created_at > ? OR (w.created_at = ? AND w.id > ?))"
		args = append(args, at, at, key[1])
	}
	q += " ORDER BY w.created_at, w.id LIMIT ?"
	args = append(args, req.Size()+1)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return paging.Page[Workspace]{}, fmt.Errorf("list workspaces: %w", err)
	}
	defer rows.Close()
	var list []Workspace
	for rows.Next() {
		w, err := scan(rows)
		if err != nil {
			return paging.Page[Workspace]{}, fmt.Errorf("read workspace: %w", err)
		}
		list = append(list, w)
	}
	if err := rows.Err(); err != nil {
		return paging.Page[Workspace]{}, err
	}
	return paging.Trim(list, req.Size(), total, func(w Workspace) []string {
		return []string{strconv.FormatInt(store.Millis(w.Created), 10), w.ID}
	}), nil
}

// Update renames a workspace, changes its mode or reclaim policy, or
// reassigns it another license (the old one goes back to the personal
// licenses with the mode it had before). Computers learn a new mode at
// their next check-in.
func (s *Service) Update(ctx context.Context, owner Owner, id string, req accountapi.WorkspaceRequest) (Workspace, error) {
	if err := req.Validate(false); err != nil {
		return Workspace{}, invalid(err)
	}
	now := s.now()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var licenseID, name, mode, previous string
		var reclaim int
		err := tx.QueryRow(ctx, `SELECT license_id, name, management_mode, previous_mode, reclaim_after_days FROM workspaces
			WHERE id = ? AND owner_key = ?`+forUpdate(tx), id, owner.key()).Scan(&licenseID, &name, &mode, &previous, &reclaim)
		if errors.Is(err, sql.ErrNoRows) {
			return errf(protocol.ErrNotFound, "there is no workspace %s", check.Truncate(id, 64))
		}
		if err != nil {
			return fmt.Errorf("read workspace: %w", err)
		}
		details := map[string]any{}
		key := ""
		if req.Name != "" {
			n, k, _ := accountapi.NormalizeWorkspaceName(req.Name)
			if n != name {
				details["name"] = n
			}
			name, key = n, k
		}
		if req.ManagementMode != "" && req.ManagementMode != mode {
			mode = req.ManagementMode
			details["mode"] = mode
		}
		if req.ReclaimAfterDays != nil && *req.ReclaimAfterDays != reclaim {
			reclaim = *req.ReclaimAfterDays
			details["reclaim_after_days"] = reclaim
		}
		if req.LicenseID != "" && req.LicenseID != licenseID {
			lic, err := freeLicenseLocked(ctx, tx, owner, req.LicenseID)
			if err != nil {
				return err
			}
			if err := setLicenseMode(ctx, tx, licenseID, previous); err != nil {
				return err
			}
			details["license"], details["previous_license"] = lic.ID, licenseID
			licenseID, previous = lic.ID, lic.ManagementMode
		}
		if len(details) == 0 {
			return nil // nothing changes: no journal row either
		}
		q := "UPDATE workspaces SET name = ?, management_mode = ?, reclaim_after_days = ?, license_id = ?, previous_mode = ?"
		args := []any{name, mode, reclaim, licenseID, previous}
		if key != "" {
			q += ", name_key = ?"
			args = append(args, key)
		}
		_, err = tx.Exec(ctx, q+" WHERE id = ?", append(args, id)...)
		if err := uniqueness(err, name); err != nil {
			return err
		}
		if err := setLicenseMode(ctx, tx, licenseID, mode); err != nil {
			return err
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: owner.actor(), Organization: owner.OrganizationID,
			Action: "workspace.update", Target: id, Details: details})
	})
	if err != nil {
		return Workspace{}, err
	}
	return s.Get(ctx, owner, id)
}

// Delete removes a workspace; its license goes back to the owner's personal
// licenses with the mode it had before, its computers keep their seats, and
// its enrollment tokens stop working.
func (s *Service) Delete(ctx context.Context, owner Owner, id string) error {
	now := s.now()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		var licenseID, previous string
		err := tx.QueryRow(ctx, "SELECT license_id, previous_mode FROM workspaces WHERE id = ? AND owner_key = ?"+forUpdate(tx),
			id, owner.key()).Scan(&licenseID, &previous)
		if errors.Is(err, sql.ErrNoRows) {
			return errf(protocol.ErrNotFound, "there is no workspace %s", check.Truncate(id, 64))
		}
		if err != nil {
			return fmt.Errorf("read workspace: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM enrollment_tokens WHERE workspace_id = ?", id); err != nil {
			return fmt.Errorf("delete enrollment tokens: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM workspaces WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete workspace: %w", err)
		}
		if err := setLicenseMode(ctx, tx, licenseID, previous); err != nil {
			return err
		}
		return journal.Record(ctx, tx, journal.Entry{At: now, Actor: owner.actor(), Organization: owner.OrganizationID,
			Action: "workspace.delete", Target: id, Details: map[string]any{"license": licenseID}})
	})
}

// Suggest returns a free name: the plan of licenseID (or "Workspace"), then
// with " (2)", " (3)"... until one is free.
func (s *Service) Suggest(ctx context.Context, owner Owner, base string) (string, error) {
	if b, _, err := accountapi.NormalizeWorkspaceName(base); err == nil && len([]rune(b)) <= accountapi.MaxWorkspaceName-6 {
		base = b
	} else {
		base = "Workspace"
	}
	for i := 1; i < 1000; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s (%d)", base, i)
		}
		_, key, _ := accountapi.NormalizeWorkspaceName(name)
		var n int
		if err := s.db.QueryRow(ctx, "SELECT count(*) FROM workspaces WHERE owner_key = ? AND name_key = ?", owner.key(), key).Scan(&n); err != nil {
			return "", fmt.Errorf("suggest workspace name: %w", err)
		}
		if n == 0 {
			return name, nil
		}
	}
	return "", errf(protocol.ErrWorkspaceNameTaken, "no free name starting with %q", base)
}

func forUpdate(tx *store.Tx) string {
	if tx.Dialect() == store.Postgres {
		return " FOR UPDATE"
	}
	return ""
}
