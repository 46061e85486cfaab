package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/store"
)

// Filter selects journal rows. Zero fields do not filter, except
// Organization: the zero Filter reads the "" chain; set AnyOrganization to
// read across organizations (a person's own activity, the operator's view).
type Filter struct {
	Organization    string
	AnyOrganization bool
	Account         string // the person the row belongs to (Entry.Account)
	Actor           string // exact actor, e.g. "account:acc_1" or "admin"
	Target          string // exact subject, e.g. a device id
	// Action is an exact action ("device.activate") or a prefix ending in
	// ".*" ("device.*").
	Action string
	Since  time.Time // inclusive
	Until  time.Time // exclusive
	Page   paging.Request
}

// ErrFilter is the error of a filter that cannot be used (a 400).
var ErrFilter = errors.New("journal filter")

const rowCols = "id, organization_id, seq, at, actor, account_id, action, subject, ip, user_agent, request_id, detail, prev_hash, hash"

type scanner interface{ Scan(...any) error }

func scanRow(s scanner) (Row, error) {
	var (
		r  Row
		at int64
	)
	if err := s.Scan(&r.ID, &r.Organization, &r.Seq, &at, &r.Actor, &r.Account, &r.Action, &r.Target, &r.IP, &r.UserAgent,
		&r.RequestID, &r.Details, &r.PrevHash, &r.Hash); err != nil {
		return Row{}, fmt.Errorf("read journal row: %w", err)
	}
	r.At = store.FromMillis(at)
	return r, nil
}

// where builds the filter's condition (without the page cursor).
func (f Filter) where() (string, []any, error) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, a ...any) { conds = append(conds, cond); args = append(args, a...) }
	if !f.AnyOrganization {
		add("organization_id = ?", f.Organization)
	}
	if f.Account != "" {
		add("account_id = ?", f.Account)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Target != "" {
		add("subject = ?", f.Target)
	}
	if f.Action != "" {
		if !accountapi.ValidJournalAction(f.Action) {
			return "", nil, fmt.Errorf("%w: action %q: letters, digits, _ and ., optionally ending in .*", ErrFilter, f.Action)
		}
		if p, ok := strings.CutSuffix(f.Action, "*"); ok {
			add(`action LIKE ? ESCAPE '\'`, strings.ReplaceAll(p, "_", `\_`)+"%")
		} else {
			add("action = ?", f.Action)
		}
	}
	if !f.Since.IsZero() {
		add("at >= ?", store.Millis(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", store.Millis(f.Until))
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// List returns one page of the rows f selects, newest first, with the
// keyset cursor (at, id) of the next page and the number of rows f selects.
func List(ctx context.Context, db *store.DB, f Filter) (paging.Page[Row], error) {
	if err := f.Page.Validate(); err != nil {
		return paging.Page[Row]{}, fmt.Errorf("%w: %w", ErrFilter, err)
	}
	where, args, err := f.where()
	if err != nil {
		return paging.Page[Row]{}, err
	}
	var total int64
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_events"+where, args...).Scan(&total); err != nil {
		return paging.Page[Row]{}, fmt.Errorf("count journal rows: %w", err)
	}
	key, err := paging.Decode(f.Page.Cursor, 2)
	if err != nil {
		return paging.Page[Row]{}, fmt.Errorf("%w: %w", ErrFilter, err)
	}
	if key != nil {
		at, err1 := strconv.ParseInt(key[0], 10, 64)
		id, err2 := strconv.ParseInt(key[1], 10, 64)
		if err1 != nil || err2 != nil {
			return paging.Page[Row]{}, fmt.Errorf("%w: %w", ErrFilter, paging.ErrCursor)
		}
		if where == "" {
			where = " WHERE "
		} else {
			where += " AND "
		}
		where += "(at < ? OR (at = ? AND id < ?))"
		args = append(args, at, at, id)
	}
	n := f.Page.Size()
	rows, err := db.Query(ctx, "SELECT "+rowCols+" FROM audit_events"+where+" ORDER BY at DESC, id DESC LIMIT "+strconv.Itoa(n+1), args...)
	if err != nil {
		return paging.Page[Row]{}, fmt.Errorf("list journal: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return paging.Page[Row]{}, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return paging.Page[Row]{}, fmt.Errorf("list journal: %w", err)
	}
	return paging.Trim(out, n, total, func(r Row) []string {
		return []string{strconv.FormatInt(store.Millis(r.At), 10), strconv.FormatInt(r.ID, 10)}
	}), nil
}

// Each calls fn for every row f selects, newest first, a page at a time
// (f.Page's cursor is the start; its limit the page size), for exports.
func Each(ctx context.Context, db *store.DB, f Filter, fn func(Row) error) error {
	if f.Page.Limit == 0 {
		f.Page.Limit = paging.MaxLimit
	}
	for {
		p, err := List(ctx, db, f)
		if err != nil {
			return err
		}
		for _, r := range p.Items {
			if err := fn(r); err != nil {
				return err
			}
		}
		if p.NextCursor == "" {
			return nil
		}
		f.Page.Cursor = p.NextCursor
	}
}

// Reader reads the journal of one database, for the HTTP layer (which takes
// its domains as interfaces).
type Reader struct{ db *store.DB }

// NewReader returns a Reader over db.
func NewReader(db *store.DB) *Reader { return &Reader{db: db} }

// List is List over the reader's database.
func (r *Reader) List(ctx context.Context, f Filter) (paging.Page[Row], error) {
	return List(ctx, r.db, f)
}

// Each is Each over the reader's database.
func (r *Reader) Each(ctx context.Context, f Filter, fn func(Row) error) error {
	return Each(ctx, r.db, f, fn)
}

// View is r as the API shows it.
func View(r Row) accountapi.JournalEntry {
	return accountapi.JournalEntry{
		At: r.At, Organization: r.Organization, Seq: r.Seq, Actor: r.Actor, Account: r.Account, Action: r.Action, Target: r.Target,
		IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID, Details: json.RawMessage(r.Details), Hash: r.Hash,
	}
}

// PageView is a page of rows as the API shows it.
func PageView(p paging.Page[Row]) paging.Page[accountapi.JournalEntry] {
	out := paging.Page[accountapi.JournalEntry]{Items: make([]accountapi.JournalEntry, 0, len(p.Items)), NextCursor: p.NextCursor, Total: p.Total}
	for _, r := range p.Items {
		out.Items = append(out.Items, View(r))
	}
	return out
}

// FilterOf turns a validated API query into a Filter (the caller sets the
// organization scope).
func FilterOf(q accountapi.JournalQuery) Filter {
	return Filter{Account: q.Account, Actor: q.Actor, Action: q.Action, Since: q.Since, Until: q.Until, Page: q.Page}
}
