package localapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/entitle/entitle/pkg/agentapi"
)

var jsonContentType = []string{"application/json"}

// cachedEntitlement is the serialized form of one engine answer.
type cachedEntitlement struct {
	val    agentapi.Entitlement // a private copy of what was serialized
	body   []byte
	length []string // Content-Length value
}

// entitlementCache holds the JSON of the engine's current answer without a
// feature: the hot path writes these bytes as long as the engine's answer is
// equal to the cached one (a field comparison is far cheaper than encoding),
// and re-serializes once when it changes.
type entitlementCache struct {
	p atomic.Pointer[cachedEntitlement]
}

func (ec *entitlementCache) get(e *agentapi.Entitlement) (*cachedEntitlement, error) {
	if c := ec.p.Load(); c != nil && sameEntitlement(&c.val, e) {
		return c, nil
	}
	c, err := serialize(e)
	if err != nil {
		return nil, err
	}
	ec.p.Store(c)
	return c, nil
}

func serialize(e *agentapi.Entitlement) (*cachedEntitlement, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	val := *e
	val.Features = slices.Clone(e.Features)
	val.TermEnd, val.LeaseExpiry = clonePtr(e.TermEnd), clonePtr(e.LeaseExpiry)
	return &cachedEntitlement{val: val, body: b, length: []string{strconv.Itoa(len(b))}}, nil
}

func clonePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// entitlementFields is the number of fields sameEntitlement compares; a test
// fails when agentapi.Entitlement grows, so the comparison is kept complete.
const entitlementFields = 15

// sameEntitlement reports whether a and b serialize identically.
func sameEntitlement(a, b *agentapi.Entitlement) bool {
	return a.Entitled == b.Entitled && a.State == b.State && a.Reason == b.Reason &&
		a.Feature == b.Feature && a.Plan == b.Plan && slices.Equal(a.Features, b.Features) &&
		a.MaxProfiles == b.MaxProfiles && a.ProfileCount == b.ProfileCount && a.LicenseID == b.LicenseID &&
		sameTime(a.TermEnd, b.TermEnd) && sameTime(a.LeaseExpiry, b.LeaseExpiry) && a.DeviceID == b.DeviceID &&
		a.ManagementMode == b.ManagementMode && a.Lease == b.Lease && sameInstant(a.CheckedAt, b.CheckedAt)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return sameInstant(*a, *b)
}

// sameInstant is equality of what JSON shows: the instant and the zone offset.
func sameInstant(a, b time.Time) bool {
	if !a.Equal(b) {
		return false
	}
	_, oa := a.Zone()
	_, ob := b.Zone()
	return oa == ob
}

// getEntitlement answers GET /v1/entitlement[?feature=NAME] from memory.
func (s *Server) getEntitlement(c echo.Context) error {
	r := c.Request()
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
	var ce *cachedEntitlement
	var err error
	if feature == "" {
		ce, err = s.ent.get(e)
	} else {
		ce, err = serialize(e)
	}
	if err != nil {
		return err
	}
	w := c.Response()
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = ce.length
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(ce.body)
	return nil
}
