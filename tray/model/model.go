// Package model turns the agent's status into a description of the tray: the
// icon, the tooltip and the whole menu, plus the desktop notifications a
// status change deserves. It is plain data and pure functions, so every state
// and mode is covered by fast table tests; tray/app renders the result.
//
// Every word comes from the catalog (pkg/i18n, tray.toml) in the language of
// the Localizer passed in; states are named by pkg/statustext, as the CLI
// names them, and dates are written for the locale in now's time zone.
package model

import (
	"strings"
	"time"
	"unicode"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/statustext"
)

// Action is what clicking an item asks the tray to do.
type Action string

// Actions.
const (
	ActionNone              Action = ""
	ActionActivate          Action = "activate"           // start a browser sign-in through the agent
	ActionOpenSignIn        Action = "open_sign_in"       // open the pending sign-in page again
	ActionDeactivate        Action = "deactivate"         // ask for confirmation
	ActionDeactivateConfirm Action = "deactivate_confirm" // deactivate now
	ActionDeactivateCancel  Action = "deactivate_cancel"  // leave the confirmation step
	ActionOpenProfiles      Action = "open_profiles"
	ActionCheck             Action = "check"
	ActionHelp              Action = "help"
	ActionQuit              Action = "quit"
)

// IconKind selects the tray icon.
type IconKind string

// Icon kinds.
const (
	IconActive    IconKind = "active"
	IconAttention IconKind = "attention"
	IconInactive  IconKind = "inactive"
)

// ConnState is the tray's connection to the agent.
type ConnState int

// Connection states.
const (
	ConnConnecting      ConnState = iota // no answer yet
	ConnConnected                        // the status is current
	ConnAgentNotRunning                  // nothing listens at the agent's address
	ConnFailed                           // the agent cannot be used (UIState.Problem says why)
)

// Item is one menu line. A Separator has no other fields set. An item with
// Children is a submenu: desktops open it on hover and send no click for it.
type Item struct {
	ID        string
	Label     string
	Enabled   bool
	Action    Action
	Separator bool
	Children  []Item
}

// Menu is everything the tray shows.
type Menu struct {
	Icon    IconKind
	Tooltip string
	Items   []Item
}

// Problem is why the tray cannot use the agent (ConnFailed): a stable code,
// turned into words here; the detail goes to the tray's log only.
type Problem string

// Problems.
const (
	ProblemNone         Problem = ""
	ProblemConfig       Problem = "config"       // the agent's configuration file cannot be read or is invalid
	ProblemPermission   Problem = "permission"   // no permission to read the configuration or the API token
	ProblemUnauthorized Problem = "unauthorized" // the agent refused the token
	ProblemOther        Problem = "other"        // anything else
)

// UIState is the tray's own state that the agent does not know.
type UIState struct {
	// ConfirmingDeactivation shows the confirmation submenu; tray/app ends it
	// after ConfirmFor.
	ConfirmingDeactivation bool
	// Busy, when set, replaces the action items with this line (BusyText).
	Busy string
	// Result is the outcome of the last action (made by ResultText). tray/app
	// drops it when the status it was about changes or the agent goes away.
	Result string
	// SignIn is the code returned by the last browser activation, shown until
	// the status reports its own or the computer is activated.
	SignIn *agentapi.PendingAuth
	// Problem explains ConnFailed.
	Problem Problem
	// HelpURL is used when the agent reports none.
	HelpURL string
}

// ConfirmFor is how long the deactivation confirmation stays open.
const ConfirmFor = 30 * time.Second

// Warn is how many days ahead an end date turns the icon to attention.
const Warn = 30 * 24 * time.Hour

// maxLabel bounds every text taken from the agent, so no line makes the
// menu wide.
const maxLabel = 72

// Build describes the tray for a status (nil when none was received yet).
func Build(loc *i18n.Localizer, s *agentapi.Status, conn ConnState, ui UIState, now time.Time) Menu {
	if conn != ConnConnected || s == nil {
		return disconnected(loc, conn, ui)
	}
	var items []Item
	status := StatusLine(loc, s, now)
	items = append(items, info("status", status))
	items = append(items, detailLines(loc, s, now)...)
	items = append(items, signInLines(loc, s, ui, now)...)
	items = append(items, sep("sep-profiles"))
	items = append(items, profileLines(loc, s, now)...)
	items = append(items, sep("sep-actions"))
	items = append(items, actionLines(loc, s, ui)...)
	items = append(items, footer(loc, s.HelpURL, ui)...)
	return Menu{Icon: IconFor(s, now), Tooltip: loc.T("tray_tooltip", i18n.Args{"status": status}), Items: items}
}

func disconnected(loc *i18n.Localizer, conn ConnState, ui UIState) Menu {
	var status string
	switch conn {
	case ConnAgentNotRunning:
		status = loc.T("tray_agent_not_running", nil)
	case ConnFailed:
		status = loc.T("tray_cannot_talk", nil)
	default:
		status = loc.T("tray_connecting", nil)
	}
	items := []Item{info("status", status)}
	switch {
	case conn == ConnFailed:
		items = append(items, info("conn-error", problemText(loc, ui.Problem)))
	case conn == ConnAgentNotRunning:
		items = append(items, info("conn-error", loc.T("tray_waiting_start", nil)))
	}
	// No result or sign-in line: they were about an agent that is gone.
	items = append(items, sep("sep-footer"))
	items = append(items, footer(loc, "", ui)...)
	return Menu{Icon: IconInactive, Tooltip: loc.T("tray_tooltip", i18n.Args{"status": status}), Items: items}
}

// StatusLine is the first line of the menu and the tooltip: the state's
// name (statustext.Title, the CLI's) and a short summary.
func StatusLine(loc *i18n.Localizer, s *agentapi.Status, now time.Time) string {
	e := &s.Entitlement
	title := statustext.Title(loc, e.State)
	withReason := func(fallbackID string) string {
		if r := clean(statustext.EntitlementReason(loc, *e, now.Location())); r != "" {
			// One menu line: the whole line is bounded, not only the reason.
			return clean(loc.T("headline", i18n.Args{"title": title, "reason": r}))
		}
		return loc.T(fallbackID, i18n.Args{"title": title})
	}
	switch e.State {
	case agentapi.StateActive:
		plan := planName(loc, e.Plan)
		switch {
		case plan != "" && e.TermEnd != nil:
			return loc.T("tray_status_plan_until", i18n.Args{"title": title, "plan": plan, "date": day(loc, *e.TermEnd, now)})
		case plan != "":
			return loc.T("tray_status_plan", i18n.Args{"title": title, "plan": plan})
		case e.TermEnd != nil:
			return loc.T("tray_status_until", i18n.Args{"title": title, "date": day(loc, *e.TermEnd, now)})
		}
		return title
	case agentapi.StateOffline:
		// The license's own end; how long it works offline is a line of its own.
		if e.TermEnd != nil {
			return loc.T("tray_status_offline_until", i18n.Args{"title": title, "date": day(loc, *e.TermEnd, now)})
		}
		return title
	case agentapi.StateNotConfigured:
		return loc.T("tray_status_not_configured", i18n.Args{"title": title})
	case agentapi.StateInactive, agentapi.StateForeign:
		return title
	case agentapi.StateExpired:
		switch {
		case e.TermEnd != nil && !e.TermEnd.After(now):
			return loc.T("tray_status_expired_term", i18n.Args{"title": title, "date": day(loc, *e.TermEnd, now)})
		case e.LeaseExpiry != nil && !e.LeaseExpiry.After(now) && s.LastCheckin == nil:
			return loc.T("tray_status_expired_no_checkin", i18n.Args{"title": title})
		case e.LeaseExpiry != nil && !e.LeaseExpiry.After(now):
			return loc.T("tray_status_expired_checkin", i18n.Args{"title": title, "since": since(loc, *s.LastCheckin, now)})
		}
		return withReason("tray_status_title")
	case agentapi.StateSuspended:
		return withReason("tray_status_suspended")
	case agentapi.StateTampered:
		return withReason("tray_status_tampered")
	}
	return loc.T("tray_status_unknown", i18n.Args{"state": clean(string(e.State))})
}

// IconFor picks the icon for a status the agent reported.
func IconFor(s *agentapi.Status, now time.Time) IconKind {
	e := &s.Entitlement
	if !e.State.Entitled() {
		return IconInactive
	}
	if e.State == agentapi.StateOffline {
		return IconAttention
	}
	if e.TermEnd != nil && e.TermEnd.Sub(now) < Warn {
		return IconAttention
	}
	if p := s.Profiles; p != nil && (p.Invalid > 0 || p.Expiring > 0 || p.Expired > 0) {
		return IconAttention
	}
	if p := s.Profiles; p != nil && p.EarliestCertUntil != nil && p.EarliestCertUntil.Sub(now) < Warn {
		return IconAttention
	}
	return IconActive
}

// offlineEnd is the earliest of the grace end, the lease expiry and the term end.
func offlineEnd(s *agentapi.Status) *time.Time {
	var end *time.Time
	for _, t := range []*time.Time{s.GraceUntil, s.Entitlement.LeaseExpiry, s.Entitlement.TermEnd} {
		if t != nil && (end == nil || t.Before(*end)) {
			end = t
		}
	}
	return end
}

// Managed reports whether an organization manages this computer remotely.
func Managed(s *agentapi.Status) bool {
	switch strings.ToLower(s.Entitlement.ManagementMode) {
	case "", "self", "local", "user", "none", "unmanaged":
		return false
	}
	return true
}

func detailLines(loc *i18n.Localizer, s *agentapi.Status, now time.Time) []Item {
	var items []Item
	if s.Entitlement.State == agentapi.StateNotConfigured {
		reason := clean(statustext.EntitlementReason(loc, s.Entitlement, now.Location()))
		if reason == "" {
			reason = loc.T("tray_not_configured_hint", nil)
		}
		items = append(items, info("not-configured", reason))
	}
	if a := clean(s.Account); a != "" {
		items = append(items, info("account", loc.T("detail_account", i18n.Args{"account": a})))
	}
	org := clean(s.Organization)
	switch {
	case Managed(s) && org != "":
		items = append(items, info("managed", loc.T("tray_managed_by", i18n.Args{"organization": org})))
	case Managed(s):
		items = append(items, info("managed", loc.T("tray_managed", nil)))
	case org != "":
		items = append(items, info("organization", loc.T("tray_organization", i18n.Args{"organization": org})))
	}
	if w := clean(s.Workspace); w != "" {
		items = append(items, info("workspace", loc.T("detail_workspace", i18n.Args{"workspace": w})))
	}
	if s.Entitlement.State == agentapi.StateOffline {
		// One stable line; the agent's raw error stays in the logs.
		line := loc.T("tray_server_unreachable", nil)
		if s.OfflineSince != nil {
			line = loc.T("tray_offline_since", i18n.Args{"since": since(loc, *s.OfflineSince, now)})
		}
		if end := offlineEnd(s); end != nil && end.After(now) {
			line = loc.T("tray_offline_works_until", i18n.Args{"line": line, "until": until(loc, *end, now)})
		}
		items = append(items, info("offline", line))
	}
	return items
}

func signInLines(loc *i18n.Localizer, s *agentapi.Status, ui UIState, now time.Time) []Item {
	p := s.Pending
	if p == nil && !s.Activated {
		p = ui.SignIn
	}
	if p == nil || (!p.ExpiresAt.IsZero() && !p.ExpiresAt.After(now)) {
		return nil
	}
	code := clean(p.UserCode)
	if code == "" {
		return nil
	}
	items := []Item{info("signin-code", loc.T("tray_signin_code", i18n.Args{"code": code}))}
	if signInURL(p) != "" {
		items = append(items, Item{ID: "signin-open", Label: loc.T("tray_signin_open", nil), Enabled: true, Action: ActionOpenSignIn})
	}
	return items
}

// SignInURL is the page to open for a pending sign-in ("" when none is usable).
func SignInURL(s *agentapi.Status, ui UIState) string {
	if s != nil && s.Pending != nil {
		return signInURL(s.Pending)
	}
	if ui.SignIn != nil {
		return signInURL(ui.SignIn)
	}
	return ""
}

func signInURL(p *agentapi.PendingAuth) string {
	for _, u := range []string{p.VerificationURIComplete, p.VerificationURI} {
		if WebURL(u) {
			return u
		}
	}
	return ""
}

// WebURL reports whether u is an http(s) URL safe to hand to a browser.
func WebURL(u string) bool {
	if len(u) > 2048 || strings.ContainsFunc(u, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return false
	}
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
}

func actionLines(loc *i18n.Localizer, s *agentapi.Status, ui UIState) []Item {
	var items []Item
	if ui.Busy != "" {
		items = append(items, info("busy", clean(ui.Busy)))
	} else {
		if s.Entitlement.State != agentapi.StateNotConfigured &&
			(!s.Activated || s.Entitlement.State == agentapi.StateInactive || s.Entitlement.State == agentapi.StateForeign) {
			items = append(items, Item{ID: "activate", Label: loc.T("tray_activate", nil), Enabled: true, Action: ActionActivate})
		}
		if s.Activated {
			items = append(items, deactivateLines(loc, s, ui)...)
		}
	}
	items = append(items, Item{ID: "check", Label: loc.T("tray_check", nil), Enabled: s.Activated && ui.Busy == "", Action: ActionCheck})
	// Below the actions, so showing or dropping it moves none of them.
	if ui.Result != "" {
		items = append(items, info("result", clean(ui.Result)))
	}
	return items
}

func deactivateLines(loc *i18n.Localizer, s *agentapi.Status, ui UIState) []Item {
	if !s.DeactivateOK {
		note := clean(statustext.DeactivateNote(loc, s))
		if note == "" {
			note = loc.T("tray_deactivate_note", nil)
		}
		return []Item{
			{ID: "deactivate", Label: loc.T("tray_deactivate", nil), Action: ActionDeactivate},
			info("deactivate-note", note),
		}
	}
	if ui.ConfirmingDeactivation {
		// The same single line, turned into a submenu: no top-level item
		// moves, so a click aimed at another line cannot land on the
		// confirmation; "Yes" is the submenu's last entry, away from where
		// the pointer enters it.
		return []Item{{ID: "deactivate", Label: loc.T("tray_deactivate_confirm", nil), Enabled: true, Children: []Item{
			info("deactivate-ask", loc.T("tray_deactivate_ask", nil)),
			sep("sep-deactivate"),
			{ID: "deactivate-cancel", Label: loc.T("tray_cancel", nil), Enabled: true, Action: ActionDeactivateCancel},
			{ID: "deactivate-yes", Label: loc.T("tray_deactivate_yes", nil), Enabled: true, Action: ActionDeactivateConfirm},
		}}}
	}
	return []Item{{ID: "deactivate", Label: loc.T("tray_deactivate", nil), Enabled: true, Action: ActionDeactivate}}
}

// HelpURL is the help page to open: the agent's, else the configured one.
func HelpURL(agentHelp string, ui UIState) string {
	if WebURL(agentHelp) {
		return agentHelp
	}
	if WebURL(ui.HelpURL) {
		return ui.HelpURL
	}
	return ""
}

func footer(loc *i18n.Localizer, agentHelp string, ui UIState) []Item {
	return []Item{
		{ID: "help", Label: loc.T("tray_help", nil), Enabled: HelpURL(agentHelp, ui) != "", Action: ActionHelp},
		{ID: "quit", Label: loc.T("tray_quit", nil), Enabled: true, Action: ActionQuit},
	}
}

func info(id, label string) Item { return Item{ID: id, Label: label} }

func sep(id string) Item { return Item{ID: id, Separator: true} }

// planName is "Pro plan", "formule Pro" ("" without a plan).
func planName(loc *i18n.Localizer, p string) string {
	if p = clean(p); p == "" {
		return ""
	}
	r := []rune(p)
	r[0] = unicode.ToUpper(r[0])
	return loc.T("tray_plan", i18n.Args{"plan": string(r)})
}

// day formats a date for the locale in the location of now.
func day(loc *i18n.Localizer, t, now time.Time) string { return loc.Date(t.In(now.Location())) }

// today reports whether t falls on now's calendar day.
func today(t, now time.Time) bool {
	t = t.In(now.Location())
	y, m, d := t.Date()
	return y == now.Year() && m == now.Month() && d == now.Day()
}

// since is "since 10:00" today, else "since June 10, 2026" (with the
// preposition each language wants before a time or a date).
func since(loc *i18n.Localizer, t, now time.Time) string {
	if today(t, now) {
		return loc.T("tray_since_time", i18n.Args{"time": loc.Time(t.In(now.Location()))})
	}
	return loc.T("tray_since_date", i18n.Args{"date": day(loc, t, now)})
}

// until is "until 10:00" today, else "until June 10, 2026".
func until(loc *i18n.Localizer, t, now time.Time) string {
	if today(t, now) {
		return loc.T("tray_until_time", i18n.Args{"time": loc.Time(t.In(now.Location()))})
	}
	return loc.T("tray_until_date", i18n.Args{"date": day(loc, t, now)})
}

// clean makes agent-supplied text safe for one menu line: control characters
// become spaces, runs of space collapse, and the result is bounded.
func clean(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\uFFFD'
	}), " ")
	if r := []rune(s); len(r) > maxLabel {
		s = string(r[:maxLabel-1]) + "…"
	}
	return s
}
