package statustext

import (
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
)

// deliveryIDs words Status.Delivery.
var deliveryIDs = map[string]string{
	agentapi.DeliveryStream:   "detail_delivery_stream",
	agentapi.DeliveryLongPoll: "detail_delivery_long_poll",
	agentapi.DeliveryCheckin:  "detail_delivery_checkin",
}

// Details are the lines under the headline for a full status (the caller
// has the API token): account, offline time, last check-in, a pending
// sign-in, profiles, the last error and the help link.
func Details(loc *i18n.Localizer, st *agentapi.Status, tz *time.Location) []string {
	if tz == nil {
		tz = time.Local
	}
	when := func(t time.Time) string { return loc.DateTime(t.In(tz)) }
	var out []string
	add := func(id string, a i18n.Args) { out = append(out, loc.T(id, a)) }
	switch {
	case st.Account != "" && st.Organization != "":
		add("detail_account_org", i18n.Args{"account": st.Account, "organization": st.Organization})
	case st.Account != "":
		add("detail_account", i18n.Args{"account": st.Account})
	case st.Organization != "":
		add("detail_account", i18n.Args{"account": st.Organization})
	}
	if st.Workspace != "" {
		add("detail_workspace", i18n.Args{"workspace": st.Workspace})
	}
	if st.OfflineSince != nil {
		if st.GraceUntil != nil {
			add("detail_offline_grace", i18n.Args{"since": when(*st.OfflineSince), "until": when(*st.GraceUntil)})
		} else {
			add("detail_offline", i18n.Args{"since": when(*st.OfflineSince)})
		}
	}
	if st.LastCheckin != nil {
		add("detail_last_checkin", i18n.Args{"when": when(*st.LastCheckin)})
	}
	if id, ok := deliveryIDs[st.Delivery]; ok {
		add(id, nil)
	}
	if p := st.Pending; p != nil {
		add("detail_signin_pending", i18n.Args{"url": p.VerificationURI, "code": p.UserCode, "until": when(p.ExpiresAt)})
	}
	if p := st.Profiles; p != nil {
		line := loc.Plural("detail_profiles", p.Count, nil)
		if p.Default != "" {
			line = loc.T("detail_profiles_default", i18n.Args{"profiles": line, "name": p.Default})
		}
		for _, n := range []struct {
			n  int
			id string
		}{{p.Expiring, "detail_profiles_expiring"}, {p.Expired, "detail_profiles_expired"}, {p.Invalid, "detail_profiles_invalid"}, {p.Unlicensed, "detail_profiles_unlicensed"}} {
			if n.n > 0 {
				line = loc.T("list_more", i18n.Args{"list": line, "item": loc.Plural(n.id, n.n, nil)})
			}
		}
		out = append(out, line)
	}
	if len(st.MissingConfig) > 0 {
		add("detail_missing_config", i18n.Args{"settings": strings.Join(st.MissingConfig, ", ")})
	}
	if text := LastError(loc, st); text != "" {
		add("detail_last_error", i18n.Args{"error": text})
	}
	if st.HelpURL != "" {
		add("detail_help", i18n.Args{"url": st.HelpURL})
	}
	return out
}
