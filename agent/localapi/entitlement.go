package localapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/labstack/echo/v4"

	"github.com/entitle/entitle/pkg/agentapi"
)

var jsonContentType = []string{"application/json"}

// implicitLengthMax: net/http sends the Content-Length of a body shorter
// than its chunking buffer (2048 bytes) that the handler wrote whole, so the
// hot answer names it only when longer. Every entry less in the header map
// counts on this path: past eight entries Go's map leaves its single group and
// allocates a table, which cost the answer about 15% of its CPU (the answer
// has eight: the five security headers, Content-Type, Vary and
// Content-Language). TestEntitlementHeadersOnTheWire holds both cases.
const implicitLengthMax = 2048

// cachedEntitlement is the serialized form of one engine answer.
type cachedEntitlement struct {
	src    *agentapi.Entitlement // the engine's answer it was made from
	lang   int                   // index of its language
	body   []byte
	length []string // Content-Length value
	// head and tail are the whole answer on the wire around its Date value,
	// as net/http writes it (fast.go): head ends with "Date: ", tail starts
	// with the CRLF after the date. Only the cached general answers have them.
	head, tail []byte
}

// entitlementCache holds the JSON of the engine's current general answer,
// one per catalog language (index of i18n.Languages).
// The engine never modifies an answer it returned and gives a new pointer
// when the answer changes (see Engine), so one pointer comparison tells the
// hot path whether its bytes are current.
type entitlementCache struct {
	p [2]atomic.Pointer[cachedEntitlement]
}

func (ec *entitlementCache) get(e *agentapi.Entitlement, lang *languages, i int) (*cachedEntitlement, error) {
	slot := &ec.p[i]
	if c := slot.Load(); c != nil && c.src == e {
		return c, nil
	}
	c, err := serialize(e, lang, i)
	if err != nil {
		return nil, err
	}
	c.head, c.tail = c.wire(lang)
	slot.Store(c)
	return c, nil
}

// serialize renders e with its reason in language i.
func serialize(e *agentapi.Entitlement, lang *languages, i int) (*cachedEntitlement, error) {
	v := e
	if i != 0 {
		cp := *e
		lang.localize(&cp, i)
		v = &cp
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	return &cachedEntitlement{src: e, lang: i, body: b, length: []string{strconv.Itoa(len(b))}}, nil
}

// setHeaders names the answer's own headers in h (the guard adds the
// security headers).
func (c *cachedEntitlement) setHeaders(h http.Header, lang *languages) {
	h["Content-Type"] = jsonContentType
	if len(c.body) >= implicitLengthMax {
		h["Content-Length"] = c.length
	}
	h["Vary"] = varyAcceptLanguage
	lang.contentLanguage(h, c.lang)
}

// wire renders the answer as net/http sends it: the status line, the header
// map sorted by name, then the headers net/http adds itself, Date and, when
// the map has none, Content-Length; then the body.
func (c *cachedEntitlement) wire(lang *languages) (head, tail []byte) {
	h := make(http.Header, len(securityHeaders)+5)
	for _, sh := range securityHeaders {
		h[sh.key] = sh.val
	}
	c.setHeaders(h, lang)
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\n")
	_ = h.Write(&b)
	b.WriteString("Date: ")
	head = b.Bytes()
	t := []byte("\r\n")
	if h["Content-Length"] == nil {
		t = append(t, "Content-Length: "+c.length[0]+"\r\n"...)
	}
	t = append(t, "\r\n"...)
	tail = append(t, c.body...)
	return head, tail
}

// serveHot is the handler under the guard: GET /v1/entitlement, the one hot
// route (every signing app asks it, often), is answered here without echo's
// router and context; everything else goes to echo. The guard's checks apply
// to both alike, since both sit under it.
func (s *Server) serveHot(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == agentapi.PathEntitlement {
		if err := s.entitlement(w, r); err != nil {
			s.handleError(err, s.echo.NewContext(r, w))
		}
		return
	}
	s.echo.ServeHTTP(w, r)
}

// getEntitlement is the echo route of GET /v1/entitlement (serveHot answers
// it first; the route keeps echo's routing table complete).
func (s *Server) getEntitlement(c echo.Context) error {
	return s.entitlement(c.Response(), c.Request())
}

// entitlement answers GET /v1/entitlement[?feature=NAME] from memory. An
// error is for the caller to write.
func (s *Server) entitlement(w http.ResponseWriter, r *http.Request) error {
	feature := ""
	if r.URL.RawQuery != "" {
		vals := r.URL.Query()["feature"]
		if len(vals) > 1 {
			return badRequest("give at most one feature")
		}
		if len(vals) == 1 {
			if !validFeature(vals[0]) {
				return badRequest("feature must be 1 to %d letters, digits or . _ : -", MaxFeatureLen)
			}
			feature = vals[0]
		}
	}
	e := s.engine.Entitlement(feature)
	if e == nil {
		return &agentapi.Error{Code: agentapi.ErrUnavailable, Message: "the agent is starting"}
	}
	li := s.lang.index(r)
	var ce *cachedEntitlement
	var err error
	if feature == "" {
		ce, err = s.ent.get(e, s.lang, li)
	} else {
		ce, err = serialize(e, s.lang, li)
	}
	if err != nil {
		return err
	}
	ce.setHeaders(w.Header(), s.lang)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(ce.body)
	return nil
}
