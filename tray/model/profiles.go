package model

import (
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
)

// maxWarnings bounds how many files that are not profiles are listed.
const maxWarnings = 3

func profileLines(loc *i18n.Localizer, s *agentapi.Status, now time.Time) []Item {
	p := s.Profiles
	if p == nil {
		return []Item{{ID: "open-profiles", Label: loc.T("tray_open_profiles", nil), Action: ActionOpenProfiles}}
	}
	var items []Item
	switch def := clean(p.Default); {
	case p.Count <= 0:
		items = append(items, info("profiles", loc.T("tray_no_profiles", nil)))
	case def != "":
		items = append(items, info("profiles", loc.T("tray_profiles_default", i18n.Args{"profiles": loc.Plural("tray_profiles", p.Count, nil), "name": def})))
	default:
		items = append(items, info("profiles", loc.T("tray_profiles_no_default", i18n.Args{"profiles": loc.Plural("tray_profiles", p.Count, nil)})))
	}
	warn := func(id, msg string, n int, args i18n.Args) {
		items = append(items, info(id, loc.T("tray_warning", i18n.Args{"text": loc.Plural(msg, n, args)})))
	}
	if p.Invalid > 0 {
		warn("profiles-invalid", "tray_profiles_invalid", p.Invalid, nil)
	}
	if p.Expired > 0 {
		warn("profiles-expired", "tray_certs_expired", p.Expired, nil)
	}
	soon := p.EarliestCertUntil != nil && p.EarliestCertUntil.After(now) && p.EarliestCertUntil.Sub(now) < Warn
	switch {
	case p.Expiring > 0 && soon:
		warn("profiles-expiring", "tray_certs_expiring_first", p.Expiring, i18n.Args{"date": day(loc, *p.EarliestCertUntil, now)})
	case p.Expiring > 0:
		warn("profiles-expiring", "tray_certs_expiring", p.Expiring, nil)
	case soon:
		items = append(items, info("profiles-expiring", loc.T("tray_warning", i18n.Args{"text": loc.T("tray_cert_expires_on", i18n.Args{"date": day(loc, *p.EarliestCertUntil, now)})})))
	}
	if p.Unlicensed > 0 {
		warn("profiles-unlicensed", "tray_profiles_unlicensed", p.Unlicensed, nil)
	}
	// The agent's free-text Warnings are English (for logs); the counts
	// above and the files that are not profiles, by code, say the same here.
	for i, np := range p.NotProfiles {
		if i == maxWarnings {
			items = append(items, info("profiles-more", loc.Plural("tray_more_warnings", len(p.NotProfiles)-maxWarnings, nil)))
			break
		}
		if name := clean(np.Name); name != "" {
			items = append(items, info(fmt.Sprintf("profiles-warning-%d", i), loc.T("tray_warning", i18n.Args{"text": loc.T("tray_not_profile", i18n.Args{"file": name})}))) // i18n:ignore: an item id
		}
	}
	items = append(items, Item{ID: "open-profiles", Label: loc.T("tray_open_profiles", nil), Enabled: p.Folder != "", Action: ActionOpenProfiles})
	return items
}
