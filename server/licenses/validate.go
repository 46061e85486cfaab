package licenses

import (
	"slices"
	"strings"

	"github.com/entitle/entitle/server/internal/check"
	"github.com/entitle/entitle/server/internal/fault"
)

// Bounds on license fields.
const (
	maxPlanName    = 64
	maxFeatures    = 64
	maxFeatureName = 64
	MaxSeats       = 1_000_000 // seats of one license
	maxProfilesCap = 100_000
)

func checkPlan(p Plan) error {
	if err := check.Text("plan name", p.Name, maxPlanName, true); err != nil {
		return err
	}
	if len(p.Features) > maxFeatures {
		return fault.Invalid("a plan has at most %d features", maxFeatures)
	}
	seen := make(map[string]bool, len(p.Features))
	for _, f := range p.Features {
		if f == "" || len(f) > maxFeatureName || strings.IndexFunc(f, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.')
		}) >= 0 {
			return fault.Invalid("feature %q must be 1 to %d characters of a-z, 0-9, '.', '_' or '-'", f, maxFeatureName)
		}
		if seen[f] {
			return fault.Invalid("feature %q is listed twice", f)
		}
		seen[f] = true
	}
	if p.MaxProfiles < 0 || p.MaxProfiles > maxProfilesCap {
		return fault.Invalid("max profiles must be between 0 and %d", maxProfilesCap)
	}
	return nil
}

func checkManagementMode(m string) error {
	if !slices.Contains(ManagementModes(), m) {
		return fault.Invalid("management mode %q is not one of %q, %q, %q or empty (not managed)",
			check.Truncate(m, 32), ManagedLocalRemote, ManagedLocal, ManagedRemote)
	}
	return nil
}
