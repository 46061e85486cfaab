package localapi

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/statustext"
)

// languages renders reasons in the language a request asks for with
// Accept-Language. The engine's answers carry the English reason; the code
// and arguments travel unchanged whatever the language.
type languages struct {
	cat  *i18n.Bundle
	locs []*i18n.Localizer // per i18n.Languages() index
	// contentLang is each language's Content-Language value, built once:
	// the entitlement answer sets it on every request. Never modified.
	contentLang [][]string
	// last is the last Accept-Language value matched: a signing app sends
	// the same one on every request, so parsing happens once.
	last atomic.Pointer[matched]
}

type matched struct {
	header string
	index  int
}

func newLanguages(cat *i18n.Bundle) *languages {
	if cat == nil {
		cat = i18n.New()
	}
	l := &languages{cat: cat}
	for _, t := range i18n.Languages() {
		l.locs = append(l.locs, cat.Localizer(t))
		l.contentLang = append(l.contentLang, []string{t.String()})
	}
	return l
}

// index returns the catalog language index for r (0, English, without an
// Accept-Language header or when nothing matches).
func (l *languages) index(r *http.Request) int {
	return l.indexOf(r.Header.Get("Accept-Language"))
}

// indexOf is index for an Accept-Language value h.
func (l *languages) indexOf(h string) int {
	if h == "" {
		return 0
	}
	if m := l.last.Load(); m != nil && m.header == h {
		return m.index
	}
	tag := l.cat.Match(h)
	i := 0
	for j, t := range i18n.Languages() {
		if t == tag {
			i = j
		}
	}
	l.last.Store(&matched{header: h, index: i})
	return i
}

// indexOfBytes is indexOf for a value still in a read buffer: the last
// value matched is compared without a copy.
func (l *languages) indexOfBytes(h []byte) int {
	if len(h) == 0 {
		return 0
	}
	if m := l.last.Load(); m != nil && m.header == string(h) {
		return m.index
	}
	return l.indexOf(string(h))
}

// localize rewrites e.Reason in language i (a no-op for English, which the
// engine already rendered).
func (l *languages) localize(e *agentapi.Entitlement, i int) {
	if i == 0 {
		return
	}
	e.Reason = statustext.EntitlementReason(l.locs[i], *e, time.Local)
}

// status is the engine's status with its reason in the language of c's
// request, which the answer's headers name.
func (s *Server) status(c echo.Context) agentapi.Status {
	st := s.engine.Status()
	i := s.lang.index(c.Request())
	s.lang.localize(&st.Entitlement, i)
	h := c.Response().Header()
	h["Vary"] = varyAcceptLanguage
	s.lang.contentLanguage(h, i)
	return st
}

// contentLanguage names language i in the answer's headers.
func (l *languages) contentLanguage(h http.Header, i int) {
	h["Content-Language"] = l.contentLang[i]
}

var varyAcceptLanguage = []string{"Accept-Language"}
