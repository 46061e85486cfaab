package devices

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/entitle/entitle/server/signing"
	"github.com/entitle/entitle/server/store"
)

// On SQLite the check-in statement returns what the lease needs of the
// license as one value, the JSON array licenseRowSQLite builds, instead of
// seven correlated subqueries (each a lookup of the same row). The array is
// read fresh by every check-in; licenseCache only spares parsing it again
// while it has not changed, so a change to the license or its owner's email
// reaches the very next lease.
const licenseRowSQLite = `(SELECT json_array(l.plan, l.features, l.max_profiles, l.term_end, l.subscription, l.management_mode, a.email)
	FROM licenses l JOIN accounts a ON a.id = l.owner_account_id WHERE l.id = devices.license_id)`

// maxCachedLicenses bounds licenseCache; past it the cache starts over.
const maxCachedLicenses = 1 << 16

// licenseCache maps a license id to its last license row and the lease
// license parsed from it. Owned by the Service.
type licenseCache struct {
	mu sync.RWMutex
	m  map[string]cachedLicense
}

type cachedLicense struct {
	row string
	lic signing.License
}

// license returns the lease license of row (licenseRowSQLite's value) for
// license id.
func (c *licenseCache) license(id, row string) (signing.License, error) {
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if ok && e.row == row {
		return e.lic, nil
	}
	lic, err := parseLicenseRow(id, row)
	if err != nil {
		return signing.License{}, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedLicenses {
		c.m = make(map[string]cachedLicense)
	}
	c.m[id] = cachedLicense{row: row, lic: lic}
	c.mu.Unlock()
	return lic, nil
}

func parseLicenseRow(id, row string) (signing.License, error) {
	var (
		cols     [7]json.RawMessage
		features string
		termEnd  *int64
		sub      any // SQLite stores booleans as 0 and 1
	)
	if err := json.Unmarshal([]byte(row), &cols); err != nil {
		return signing.License{}, fmt.Errorf("license %s: %w", id, err)
	}
	l := signing.License{ID: id}
	for i, dst := range []any{&l.Plan, &features, &l.MaxProfiles, &termEnd, &sub, &l.Mgmt, &l.OwnerEmail} {
		if err := json.Unmarshal(cols[i], dst); err != nil {
			return signing.License{}, fmt.Errorf("license %s: column %d: %w", id, i, err)
		}
	}
	if err := json.Unmarshal([]byte(features), &l.Features); err != nil {
		return signing.License{}, fmt.Errorf("license %s: features: %w", id, err)
	}
	if termEnd != nil {
		l.TermEnd = store.FromMillis(*termEnd)
	}
	switch v := sub.(type) {
	case float64:
		l.Subscription = v != 0
	case bool:
		l.Subscription = v
	}
	return l, nil
}
