package httpapi_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi"
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

// TestOrgJournal: an organization's admins read its journal (JSON, filtered,
// and CSV); a plain member gets 403, an outsider 404, and no row of another
// organization shows.
func TestOrgJournal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		ctx := context.Background()
		year := time.Now().AddDate(1, 0, 0)
		tokens := map[string]accountapi.SessionResponse{}
		for _, who := range []string{"owner", "member", "outsider"} {
			email := who + "@example.com"
			e.Account(t, email, password, 1, year)
			var s accountapi.SessionResponse
			if st := e.Do(t, "POST", accountapi.PathSessions, "", accountapi.SessionRequest{Email: email, Password: password}, &s); st != http.StatusCreated {
				t.Fatalf("sign in %s: %d", who, st)
			}
			tokens[who] = s
		}
		org, err := e.App.Organizations.Create(ctx, "account:"+tokens["owner"].Account.ID, "Acme", tokens["owner"].Account.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Organizations.Create(ctx, "account:"+tokens["outsider"].Account.ID, "Other", tokens["outsider"].Account.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.DB.Exec(ctx, "INSERT INTO memberships (id, organization_id, account_id, role, billing, created_at) VALUES ('mem_t', ?, ?, 'member', ?, 1)",
			org.ID, tokens["member"].Account.ID, false); err != nil {
			t.Fatal(err)
		}
		path := strings.Replace(httpapi.PathOrgJournal, "{org}", org.ID, 1)
		var p paging.Page[accountapi.JournalEntry]
		if st := e.Do(t, "GET", path, tokens["owner"].Token, nil, &p); st != http.StatusOK || p.Total != 1 || len(p.Items) != 1 {
			t.Fatalf("owner reads the journal: %d %+v", st, p)
		}
		for _, it := range p.Items {
			if it.Organization != org.ID || it.Seq == 0 {
				t.Errorf("row of another chain: %+v", it)
			}
		}
		if st := e.Do(t, "GET", path+"?action=org.*&account="+tokens["owner"].Account.ID, tokens["owner"].Token, nil, &p); st != http.StatusOK || p.Total != 1 || p.Items[0].Action != "org.create" {
			t.Errorf("filtered: %d %+v", st, p)
		}
		var pe protocol.Error
		if st := e.Do(t, "GET", path, tokens["member"].Token, nil, &pe); st != http.StatusForbidden || pe.Code != adminapi.ErrForbidden {
			t.Errorf("member: %d %+v; want 403 forbidden", st, pe)
		}
		for _, who := range []string{"outsider"} {
			if st := e.Do(t, "GET", path, tokens[who].Token, nil, &pe); st != http.StatusNotFound {
				t.Errorf("%s: %d; want 404", who, st)
			}
			if st := e.Do(t, "GET", path+".csv", tokens[who].Token, nil, nil); st != http.StatusNotFound {
				t.Errorf("%s csv: %d; want 404", who, st)
			}
		}
		if st := e.Do(t, "GET", strings.Replace(httpapi.PathOrgJournal, "{org}", "org_nope", 1), tokens["owner"].Token, nil, &pe); st != http.StatusNotFound {
			t.Errorf("unknown organization: %d; want 404", st)
		}
		if st := e.Do(t, "GET", path, "", nil, &pe); st != http.StatusUnauthorized {
			t.Errorf("anonymous: %d; want 401", st)
		}
		if st := e.Do(t, "GET", path+"?since=soon", tokens["owner"].Token, nil, &pe); st != http.StatusBadRequest {
			t.Errorf("bad filter: %d; want 400", st)
		}

		req, _ := http.NewRequest("GET", e.URL(path+".csv"), nil)
		req.Header.Set("Authorization", "Bearer "+tokens["owner"].Token)
		resp, err := e.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		recs, err := csv.NewReader(resp.Body).ReadAll()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || err != nil || len(recs) != 2 || recs[1][1] != org.ID {
			t.Errorf("csv: %d %s %v %v", resp.StatusCode, resp.Header.Get("Content-Type"), err, recs)
		}
	})
}
