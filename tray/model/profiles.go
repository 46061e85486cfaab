package model

import (
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

// maxWarnings bounds how many of the agent's profile warnings are listed.
const maxWarnings = 3

func profileLines(s *agentapi.Status, now time.Time) []Item {
	p := s.Profiles
	if p == nil {
		return []Item{{ID: "open-profiles", Label: "Open profiles folder", Action: ActionOpenProfiles}}
	}
	var items []Item
	switch def := clean(p.Default); {
	case p.Count <= 0:
		items = append(items, info("profiles", "No signature profiles"))
	case def != "":
		items = append(items, info("profiles", fmt.Sprintf("%s (default: %s)", plural(p.Count, "profile", "profiles"), def)))
	default:
		items = append(items, info("profiles", plural(p.Count, "profile", "profiles")+", no default"))
	}
	if p.Invalid > 0 {
		items = append(items, info("profiles-invalid", "⚠ "+plural(p.Invalid, "profile is", "profiles are")+" invalid"))
	}
	if p.Expired > 0 {
		items = append(items, info("profiles-expired", "⚠ "+plural(p.Expired, "certificate has", "certificates have")+" expired"))
	}
	soon := p.EarliestCertUntil != nil && p.EarliestCertUntil.After(now) && p.EarliestCertUntil.Sub(now) < Warn
	switch {
	case p.Expiring > 0 && soon:
		items = append(items, info("profiles-expiring", fmt.Sprintf("⚠ %s within 30 days (first on %s)",
			plural(p.Expiring, "certificate expires", "certificates expire"), day(*p.EarliestCertUntil, now))))
	case p.Expiring > 0:
		items = append(items, info("profiles-expiring", "⚠ "+plural(p.Expiring, "certificate expires", "certificates expire")+" within 30 days"))
	case soon:
		items = append(items, info("profiles-expiring", "⚠ A certificate expires on "+day(*p.EarliestCertUntil, now)))
	}
	if p.Unlicensed > 0 {
		items = append(items, info("profiles-unlicensed", "⚠ "+plural(p.Unlicensed, "profile is", "profiles are")+" beyond your plan's limit"))
	}
	for i, w := range p.Warnings {
		if i == maxWarnings {
			items = append(items, info("profiles-more", fmt.Sprintf("… and %d more warnings", len(p.Warnings)-maxWarnings)))
			break
		}
		if w = clean(w); w != "" {
			items = append(items, info(fmt.Sprintf("profiles-warning-%d", i), "⚠ "+w))
		}
	}
	items = append(items, Item{ID: "open-profiles", Label: "Open profiles folder", Enabled: p.Folder != "", Action: ActionOpenProfiles})
	return items
}

// plural writes "1 profile" or "3 profiles".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
