package adminapi

import (
	"time"
)

// Paths of the plan catalog.
const (
	PathOrgPlans      = PathOrg + "/plans"
	PathOperatorPlans = "/v1/operator/plans"
	PathOperatorPlan  = PathOperatorPlans + "/{plan}"
)

// Bounds on a plan's fields.
const (
	MaxPlanCode       = 64
	MaxFeatures       = 50
	MaxFeature        = 64
	MaxProfilesLimit  = 10000
	MaxDevicesPerSeat = 1000
	MaxTermMonths     = 120
	MaxSeatPriceCents = 100_000_000 // one million in the currency's unit
)

// PlanJSON is a plan of the operator's catalog.
type PlanJSON struct {
	ID             string    `json:"id"`
	Code           string    `json:"code"`
	Name           string    `json:"name"`
	Features       []string  `json:"features"`
	MaxProfiles    int       `json:"max_profiles"`
	DevicesPerSeat int       `json:"devices_per_seat"`
	TermMonths     int       `json:"term_months"`
	SeatPriceCents int64     `json:"seat_price_cents"`
	Currency       string    `json:"currency"`
	Active         bool      `json:"active"`
	Created        time.Time `json:"created"`
}

// CreatePlanRequest is the body of POST /v1/operator/plans.
type CreatePlanRequest struct {
	Code           string   `json:"code"`
	Name           string   `json:"name"`
	Features       []string `json:"features"`
	MaxProfiles    int      `json:"max_profiles"`
	DevicesPerSeat int      `json:"devices_per_seat"`
	TermMonths     int      `json:"term_months"`
	SeatPriceCents int64    `json:"seat_price_cents"`
	Currency       string   `json:"currency"`
}

// Defaults fills what may be left out: one computer a seat, euros, no
// features.
func (r CreatePlanRequest) Defaults() CreatePlanRequest {
	if r.DevicesPerSeat == 0 {
		r.DevicesPerSeat = 1
	}
	if r.Currency == "" {
		r.Currency = "EUR"
	}
	if r.Features == nil {
		r.Features = []string{}
	}
	return r
}

// Validate checks every field (after Defaults).
func (r CreatePlanRequest) Validate() error {
	r = r.Defaults()
	if !validCode(r.Code) {
		return invalid("code is required: 1 to 64 lowercase letters, digits, '-' or '_'")
	}
	return planFields{&r.Name, &r.Features, &r.MaxProfiles, &r.DevicesPerSeat, &r.TermMonths, &r.SeatPriceCents, &r.Currency}.validate(true)
}

// UpdatePlanRequest is the body of PATCH /v1/operator/plans/{plan}; absent
// fields stay as they are. A plan's code never changes; active false takes
// it out of the catalog (existing orders and subscriptions keep it).
type UpdatePlanRequest struct {
	Name           *string   `json:"name,omitempty"`
	Features       *[]string `json:"features,omitempty"`
	MaxProfiles    *int      `json:"max_profiles,omitempty"`
	DevicesPerSeat *int      `json:"devices_per_seat,omitempty"`
	TermMonths     *int      `json:"term_months,omitempty"`
	SeatPriceCents *int64    `json:"seat_price_cents,omitempty"`
	Currency       *string   `json:"currency,omitempty"`
	Active         *bool     `json:"active,omitempty"`
}

// Validate checks the given fields.
func (r UpdatePlanRequest) Validate() error {
	f := planFields{r.Name, r.Features, r.MaxProfiles, r.DevicesPerSeat, r.TermMonths, r.SeatPriceCents, r.Currency}
	if f == (planFields{}) && r.Active == nil {
		return invalid("give at least one field to change")
	}
	return f.validate(false)
}

// planFields are the changeable fields of a plan; nil is absent.
type planFields struct {
	name           *string
	features       *[]string
	maxProfiles    *int
	devicesPerSeat *int
	termMonths     *int
	price          *int64
	currency       *string
}

func (f planFields) validate(required bool) error {
	switch {
	case f.name != nil && !text(*f.name, MaxName), required && f.name == nil:
		return invalid("name is required (at most 200 characters, no control characters)")
	case f.features != nil && !validFeatures(*f.features):
		return invalid("features: at most 50, each 1 to 64 characters, no control characters, no duplicates")
	case f.maxProfiles != nil && (*f.maxProfiles < 0 || *f.maxProfiles > MaxProfilesLimit):
		return invalid("max_profiles must be between 0 and 10000")
	case f.devicesPerSeat != nil && (*f.devicesPerSeat < 1 || *f.devicesPerSeat > MaxDevicesPerSeat):
		return invalid("devices_per_seat must be between 1 and 1000")
	case f.termMonths != nil && (*f.termMonths < 1 || *f.termMonths > MaxTermMonths):
		return invalid("term_months must be between 1 and 120")
	case f.price != nil && (*f.price < 0 || *f.price > MaxSeatPriceCents):
		return invalid("seat_price_cents must be between 0 and 100000000")
	case f.currency != nil && !validCurrency(*f.currency):
		return invalid("currency must be an ISO 4217 code of three capital letters, such as EUR")
	}
	return nil
}

func validCode(s string) bool {
	if s == "" || len(s) > MaxPlanCode {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func validFeatures(fs []string) bool {
	if len(fs) > MaxFeatures {
		return false
	}
	seen := map[string]bool{}
	for _, f := range fs {
		if !text(f, MaxFeature) || seen[f] {
			return false
		}
		seen[f] = true
	}
	return true
}

func validCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
