package accountapi

import (
	"encoding/json"
	"net/url"
	"time"

	"github.com/entitle/entitle/pkg/paging"
)

// PathAccountJournal is GET /v1/account/journal: the signed-in person's own
// activity. The organization API serves an organization's journal for its
// admins at /v1/orgs/{org}/journal (and .../journal.csv) with the same
// query and entries.
const PathAccountJournal = "/v1/account/journal"

// JournalEntry is a journal row as the API (and `entitle-server journal list
// --json`) shows it.
type JournalEntry struct {
	At           time.Time `json:"at"`
	Organization string    `json:"organization"` // "" for personal accounts and server-wide changes
	Seq          int64     `json:"seq"`          // place in the organization's chain
	Actor        string    `json:"actor"`
	Account      string    `json:"account,omitempty"`
	Action       string    `json:"action"`
	Target       string    `json:"target"`
	IP           string    `json:"ip,omitempty"`
	UserAgent    string    `json:"user_agent,omitempty"`
	RequestID    string    `json:"request_id,omitempty"`
	// Details is a JSON object whose keys depend on the action.
	Details json.RawMessage `json:"details"`
	Hash    string          `json:"hash"`
}

// Bounds of a journal query.
const (
	MaxJournalFilter = 128 // an account id or actor
	MaxJournalAction = 64
)

// JournalQuery filters a journal list: ?account=&actor=&action=&since=&until=
// (times in RFC 3339) plus the page's ?limit=&cursor=. Account and Actor
// only apply to an organization's journal; a person's own activity is always
// filtered to their account.
type JournalQuery struct {
	Account string
	Actor   string
	// Action is an action ("device.activate") or a prefix ending in ".*"
	// ("device.*").
	Action string
	Since  time.Time // inclusive
	Until  time.Time // exclusive
	Page   paging.Request
}

// ValidJournalAction reports whether s can filter by action: an action name
// (lower-case letters, digits, _ and .) or a prefix of one ending in ".*".
func ValidJournalAction(s string) bool {
	if s == "" || len(s) > MaxJournalAction {
		return false
	}
	body := s
	if len(s) > 2 && s[len(s)-2:] == ".*" {
		body = s[:len(s)-2]
	}
	for _, c := range body {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// Validate checks the bounds; it returns a *protocol.Error with code
// invalid_request.
func (q JournalQuery) Validate() error {
	switch {
	case len(q.Account) > MaxJournalFilter || len(q.Actor) > MaxJournalFilter:
		return invalid("account and actor filters are at most 128 bytes")
	case q.Action != "" && !ValidJournalAction(q.Action):
		return invalid("action must be an action name or a prefix ending in .*")
	case !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until):
		return invalid("since must be before until")
	}
	if err := q.Page.Validate(); err != nil {
		return invalid(err.Error())
	}
	return nil
}

// JournalQueryFrom reads a JournalQuery from URL query values and validates
// it.
func JournalQueryFrom(v url.Values) (JournalQuery, error) {
	q := JournalQuery{Account: v.Get("account"), Actor: v.Get("actor"), Action: v.Get("action")}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		s := v.Get(t.name)
		if s == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return JournalQuery{}, invalid(t.name + " must be an RFC 3339 time such as 2026-12-01T00:00:00Z")
		}
		*t.dst = at
	}
	p, err := paging.FromQuery(v)
	if err != nil {
		return JournalQuery{}, invalid(err.Error())
	}
	q.Page = p
	if err := q.Validate(); err != nil {
		return JournalQuery{}, err
	}
	return q, nil
}

// Values is the query as URL values (the client side of JournalQueryFrom).
func (q JournalQuery) Values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"account": q.Account, "actor": q.Actor, "action": q.Action} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	q.Page.Query(v)
	return v
}
