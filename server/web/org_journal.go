package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/journal"
)

// journalForm is the journal page's filter as the person typed it.
type journalForm struct {
	User, Action, Since, Until string
}

type journalView struct {
	Form  journalForm
	Rows  []journal.Row
	Pager Pager
	CSV   string // the export link of the same filter
}

// day parses a YYYY-MM-DD field (UTC); "" is no bound.
func day(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// journalFilter reads the filter of the journal page and its CSV export:
// who (an email: the rows that account wrote), what (an action, or a
// prefix such as device.*) and when (from a day, inclusive, to a day,
// inclusive). ok is false when a field cannot be used.
func (p *Pages) journalFilter(r *http.Request, c *call) (journal.Filter, journalForm, bool) {
	q := r.URL.Query()
	f := journalForm{User: strings.TrimSpace(q.Get("user")), Action: strings.TrimSpace(q.Get("action")), Since: q.Get("since"), Until: q.Get("until")}
	jf := journal.Filter{Organization: c.org.ID}
	since, ok1 := day(f.Since)
	until, ok2 := day(f.Until)
	if !ok1 || !ok2 || len(f.User) > maxEmail || f.Action != "" && !accountapi.ValidJournalAction(f.Action) {
		return jf, f, false
	}
	jf.Since, jf.Action = since, f.Action
	if !until.IsZero() {
		jf.Until = until.AddDate(0, 0, 1)
	}
	if f.User != "" {
		id, err := p.d.Organizations.AccountIDByEmail(r.Context(), f.User)
		if err != nil {
			id = "none" // an unknown person wrote nothing
		}
		jf.Actor = "account:" + id
	}
	return jf, f, true
}

func (p *Pages) orgJournalPage(w http.ResponseWriter, r *http.Request, c *call) {
	jf, form, ok := p.journalFilter(r, c)
	jv := journalView{Form: form}
	if !ok {
		v := c.orgView("web_org_journal_title", jv)
		v.Error = c.T("web_journal_bad_filter", nil)
		c.show(w, r, http.StatusBadRequest, "org_journal", v)
		return
	}
	pg, pr, err := listPage(r, pageSize, "web_total_rows", func(req paging.Request) (paging.Page[journal.Row], error) {
		jf.Page = req
		return p.d.Journal.List(r.Context(), jf)
	})
	if err != nil {
		c.fail(w, r, "list journal", err)
		return
	}
	jv.Rows, jv.Pager = pg.Items, pr
	q := url.Values{}
	for k, v := range map[string]string{"user": form.User, "action": form.Action, "since": form.Since, "until": form.Until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	jv.CSV = "/orgs/" + c.org.ID + "/journal.csv"
	if len(q) > 0 {
		jv.CSV += "?" + q.Encode()
	}
	c.show(w, r, http.StatusOK, "org_journal", c.orgView("web_org_journal_title", jv))
}

// orgJournalCSV exports the rows of the journal page's filter, every one,
// as CSV (the same columns as the API's export).
func (p *Pages) orgJournalCSV(w http.ResponseWriter, r *http.Request, c *call) {
	jf, _, ok := p.journalFilter(r, c)
	if !ok {
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "web_journal_bad_filter", nil)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="journal-`+c.org.ID+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := journal.NewCSVWriter(w)
	err := p.d.Journal.Each(r.Context(), jf, cw.Write)
	if err == nil {
		err = cw.Flush()
	}
	if err != nil {
		// The header is sent: the truncated body is all a browser can get.
		p.logger.ErrorContext(r.Context(), "journal export failed", "org", c.org.ID, "error", err)
	}
}
