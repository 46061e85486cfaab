package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/httpapi/httpmw"
	"github.com/entitle/entitle/server/journal"
)

// Journal is the part of *journal.Reader the API uses.
type Journal interface {
	List(ctx context.Context, f journal.Filter) (paging.Page[journal.Row], error)
	Each(ctx context.Context, f journal.Filter, fn func(journal.Row) error) error
}

// journalRequest puts the request's IP, user agent and id into its context
// (journal.WithRequest), so every journal row written while serving it, by
// the API or by the pages, names them. It sits just inside httpmw.Identify,
// which decides the id and the client IP.
func journalRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := httpmw.FromContext(r.Context())
		ctx := journal.WithRequest(r.Context(), journal.Request{
			IP: httpmw.ClientIP(r.Context()), UserAgent: r.UserAgent(), RequestID: in.ID,
		})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Paths of an organization's journal, for its admins.
const (
	PathOrgJournal    = "/v1/orgs/{org}/journal"
	PathOrgJournalCSV = "/v1/orgs/{org}/journal.csv"
)

// registerJournal adds the journal routes (when the journal is wired; the
// organization routes when roles are too).
func (s *Server) registerJournal() {
	if s.d.Journal == nil {
		return
	}
	s.handle("GET "+accountapi.PathAccountJournal, s.accountJournal)
	if s.d.Orgs == nil {
		return
	}
	// The authz table admits admins and owners of {org} and the operator.
	s.handleAs("GET "+PathOrgJournal, func(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
		s.OrgJournal(w, r, r.PathValue("org"))
	})
	s.handleAs("GET "+PathOrgJournalCSV, func(w http.ResponseWriter, r *http.Request, _ authz.Principal) {
		s.OrgJournalCSV(w, r, r.PathValue("org"))
	})
}

// accountJournal is GET /v1/account/journal: the signed-in person's own
// activity (what they did and their sign-ins, failed ones included), in every
// organization, newest first.
func (s *Server) accountJournal(w http.ResponseWriter, r *http.Request) {
	acct, _, ok := s.account(w, r)
	if !ok {
		return
	}
	q, err := accountapi.JournalQueryFrom(r.URL.Query())
	if err != nil {
		writeError(w, validationError(err))
		return
	}
	f := journal.FilterOf(q)
	f.AnyOrganization, f.Account = true, acct.ID
	s.writeJournalPage(w, r, f)
}

func (s *Server) writeJournalPage(w http.ResponseWriter, r *http.Request, f journal.Filter) {
	p, err := s.d.Journal.List(r.Context(), f)
	if err != nil {
		s.journalFailure(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, journal.PageView(p))
}

func (s *Server) journalFailure(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, journal.ErrFilter) {
		writeError(w, apiError(protocol.ErrInvalidRequest, err.Error()))
		return
	}
	s.failure(w, r, "journal", err)
}

// OrgJournal answers GET /v1/orgs/{org}/journal for org, once the caller is
// known to be an admin of it (the authz route table: Admin): the
// organization's journal, filtered by ?account= (the person), ?actor=,
// ?action=, ?since=, ?until=, paginated.
func (s *Server) OrgJournal(w http.ResponseWriter, r *http.Request, org string) {
	if f, ok := orgFilter(w, r, org); ok {
		s.writeJournalPage(w, r, f)
	}
}

// orgFilter reads the journal query of r for org's journal; on a bad query
// it has answered 400.
func orgFilter(w http.ResponseWriter, r *http.Request, org string) (journal.Filter, bool) {
	q, err := accountapi.JournalQueryFrom(r.URL.Query())
	if err != nil {
		writeError(w, validationError(err))
		return journal.Filter{}, false
	}
	f := journal.FilterOf(q)
	f.Organization = org
	return f, true
}

// OrgJournalCSV answers GET /v1/orgs/{org}/journal.csv for an admin of org:
// every row the same filters select, newest first, as RFC 4180 CSV
// (journal.CSVWriter), streamed.
func (s *Server) OrgJournalCSV(w http.ResponseWriter, r *http.Request, org string) {
	f, ok := orgFilter(w, r, org)
	if !ok {
		return
	}
	f.Page.Cursor = "" // every row
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="journal-`+org+`.csv"`)
	cw := journal.NewCSVWriter(w)
	if err := s.d.Journal.Each(r.Context(), f, cw.Write); err != nil {
		// Headers are sent: the truncated body is all a client can get.
		s.logger.ErrorContext(r.Context(), "journal export failed", "org", org, "error", err)
		return
	}
	if err := cw.Flush(); err != nil {
		s.logger.WarnContext(r.Context(), "journal export: write failed", "org", org, "error", err)
	}
}
