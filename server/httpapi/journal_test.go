package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestAccountJournal: a person sees their own activity (sign-ins, failed
// ones included, and their changes), filtered and paginated, and nothing of
// another account's.
func TestAccountJournal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		year := time.Now().AddDate(1, 0, 0)
		e.Account(t, "me@example.com", password, 2, year)
		e.Account(t, "other@example.com", password, 2, year)
		var pe protocol.Error
		if st := e.Do(t, "POST", accountapi.PathSessions, "", accountapi.SessionRequest{Email: "me@example.com", Password: "wrong password!"}, &pe); st != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", st)
		}
		var me, other accountapi.SessionResponse
		e.Do(t, "POST", accountapi.PathSessions, "", accountapi.SessionRequest{Email: "me@example.com", Password: password}, &me)
		e.Do(t, "POST", accountapi.PathSessions, "", accountapi.SessionRequest{Email: "other@example.com", Password: password}, &other)

		list := func(bearer string, q url.Values) (int, paging.Page[accountapi.JournalEntry]) {
			t.Helper()
			var p paging.Page[accountapi.JournalEntry]
			st := e.Do(t, "GET", accountapi.PathAccountJournal+"?"+q.Encode(), bearer, nil, &p)
			return st, p
		}
		st, p := list(me.Token, nil)
		if st != http.StatusOK || p.Total != 2 || len(p.Items) != 2 || p.Items[0].Action != "session.create" || p.Items[1].Action != "login.fail" {
			t.Fatalf("own journal: %d %+v", st, p)
		}
		for _, it := range p.Items {
			if it.Account != me.Account.ID || it.IP != "127.0.0.1" || it.RequestID == "" || it.Hash == "" {
				t.Errorf("entry %+v: not mine or without its request", it)
			}
		}
		if st, p = list(me.Token, url.Values{"action": {"login.*"}}); st != http.StatusOK || p.Total != 1 || p.Items[0].Action != "login.fail" {
			t.Errorf("action filter: %d %+v", st, p)
		}
		if st, p = list(me.Token, url.Values{"until": {"2000-01-01T00:00:00Z"}}); st != http.StatusOK || p.Total != 0 || p.Items == nil {
			t.Errorf("until filter: %d %+v", st, p)
		}
		// A page at a time.
		st, p = list(me.Token, url.Values{"limit": {"1"}})
		if st != http.StatusOK || len(p.Items) != 1 || p.NextCursor == "" {
			t.Fatalf("first page: %d %+v", st, p)
		}
		st, next := list(me.Token, url.Values{"limit": {"1"}, "cursor": {p.NextCursor}})
		if st != http.StatusOK || len(next.Items) != 1 || next.Items[0].Action != "login.fail" || next.NextCursor != "" {
			t.Errorf("second page: %d %+v", st, next)
		}
		// The other account sees only its own row; ?account= cannot widen it.
		if st, p = list(other.Token, url.Values{"account": {me.Account.ID}}); st != http.StatusOK || p.Total != 1 || p.Items[0].Account != other.Account.ID {
			t.Errorf("other's journal: %d %+v", st, p)
		}
		for name, q := range map[string]url.Values{
			"bad action": {"action": {"DROP TABLE"}}, "bad time": {"since": {"yesterday"}}, "bad cursor": {"cursor": {"!!"}}, "bad limit": {"limit": {"0x"}},
		} {
			if st, _ := list(me.Token, q); st != http.StatusBadRequest {
				t.Errorf("%s: %d; want 400", name, st)
			}
		}
		if st, _ := list("", nil); st != http.StatusUnauthorized {
			t.Errorf("without a session: %d; want 401", st)
		}
	})
}
