// Package model turns the agent's status into a description of the tray: the
// icon, the tooltip and the whole menu, plus the desktop notifications a
// status change deserves. It is plain data and pure functions, so every state
// and mode is covered by fast table tests; tray/app renders the result.
package model

import (
	"strings"
	"time"
	"unicode"

	"github.com/entitle/entitle/pkg/agentapi"
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
func Build(s *agentapi.Status, conn ConnState, ui UIState, now time.Time) Menu {
	if conn != ConnConnected || s == nil {
		return disconnected(conn, ui, now)
	}
	var items []Item
	status := StatusLine(s, now)
	items = append(items, info("status", status))
	items = append(items, detailLines(s, now)...)
	items = append(items, signInLines(s, ui, now)...)
	items = append(items, sep("sep-profiles"))
	items = append(items, profileLines(s, now)...)
	items = append(items, sep("sep-actions"))
	items = append(items, actionLines(s, ui)...)
	items = append(items, footer(s.HelpURL, ui)...)
	return Menu{Icon: IconFor(s, now), Tooltip: "Entitle — " + status, Items: items}
}

func disconnected(conn ConnState, ui UIState, now time.Time) Menu {
	var status string
	switch conn {
	case ConnAgentNotRunning:
		status = "Agent not running"
	case ConnFailed:
		status = "Cannot talk to the agent"
	default:
		status = "Connecting to the agent…"
	}
	items := []Item{info("status", status)}
	switch {
	case conn == ConnFailed:
		items = append(items, info("conn-error", problemText(ui.Problem)))
	case conn == ConnAgentNotRunning:
		items = append(items, info("conn-error", "Waiting for it to start…"))
	}
	// No result or sign-in line: they were about an agent that is gone.
	items = append(items, sep("sep-footer"))
	items = append(items, footer("", ui)...)
	return Menu{Icon: IconInactive, Tooltip: "Entitle — " + status, Items: items}
}

// StatusLine is the first line of the menu and the tooltip.
func StatusLine(s *agentapi.Status, now time.Time) string {
	e := &s.Entitlement
	reason := clean(e.Reason)
	switch e.State {
	case agentapi.StateActive:
		line := "Active"
		if p := planName(e.Plan); p != "" {
			line += " — " + p
		}
		if e.TermEnd != nil {
			if e.Plan == "" {
				line += " —"
			} else {
				line += ","
			}
			line += " until " + day(*e.TermEnd, now)
		}
		return line
	case agentapi.StateOffline:
		// The license's own end; how long it works offline is a line of its own.
		if e.TermEnd != nil {
			return "Offline — licensed until " + day(*e.TermEnd, now)
		}
		return "Offline"
	case agentapi.StateNotConfigured:
		return "Not set up: no licensing server configured"
	case agentapi.StateInactive:
		return "Not activated"
	case agentapi.StateExpired:
		switch {
		case e.TermEnd != nil && !e.TermEnd.After(now):
			return "Expired — license ended " + day(*e.TermEnd, now)
		case e.LeaseExpiry != nil && !e.LeaseExpiry.After(now):
			return "Expired — not checked in since " + lastCheckin(s, now)
		case reason != "":
			return "Expired — " + reason
		}
		return "Expired"
	case agentapi.StateSuspended:
		if reason != "" {
			return "Suspended — " + reason
		}
		return "Suspended by the licensing server"
	case agentapi.StateTampered:
		if reason != "" {
			return "License check failed — " + reason
		}
		return "License check failed — the clock or license file changed"
	case agentapi.StateForeign:
		return "This activation belongs to another computer"
	}
	return "Unknown state " + clean(string(e.State))
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

func detailLines(s *agentapi.Status, now time.Time) []Item {
	var items []Item
	if s.Entitlement.State == agentapi.StateNotConfigured {
		reason := clean(s.Entitlement.Reason)
		if reason == "" {
			reason = "Ask your administrator to finish the setup"
		}
		items = append(items, info("not-configured", reason))
	}
	if a := clean(s.Account); a != "" {
		items = append(items, info("account", "Account: "+a))
	}
	org := clean(s.Organization)
	switch {
	case Managed(s) && org != "":
		items = append(items, info("managed", "Managed by "+org))
	case Managed(s):
		items = append(items, info("managed", "Managed by your organization"))
	case org != "":
		items = append(items, info("organization", "Organization: "+org))
	}
	if w := clean(s.Workspace); w != "" {
		items = append(items, info("workspace", "Workspace: "+w))
	}
	if s.Entitlement.State == agentapi.StateOffline {
		// One stable line; the agent's raw error stays in the logs.
		line := "The licensing server cannot be reached"
		if s.OfflineSince != nil {
			line = "Offline since " + when(*s.OfflineSince, now)
		}
		if end := offlineEnd(s); end != nil && end.After(now) {
			line += "; works until " + when(*end, now)
		}
		items = append(items, info("offline", line))
	}
	return items
}

func signInLines(s *agentapi.Status, ui UIState, now time.Time) []Item {
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
	items := []Item{info("signin-code", "Sign-in code: "+code)}
	if signInURL(p) != "" {
		items = append(items, Item{ID: "signin-open", Label: "Open sign-in page…", Enabled: true, Action: ActionOpenSignIn})
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

func actionLines(s *agentapi.Status, ui UIState) []Item {
	var items []Item
	if ui.Busy != "" {
		items = append(items, info("busy", clean(ui.Busy)))
	} else {
		if s.Entitlement.State != agentapi.StateNotConfigured &&
			(!s.Activated || s.Entitlement.State == agentapi.StateInactive || s.Entitlement.State == agentapi.StateForeign) {
			items = append(items, Item{ID: "activate", Label: "Activate…", Enabled: true, Action: ActionActivate})
		}
		if s.Activated {
			items = append(items, deactivateLines(s, ui)...)
		}
	}
	items = append(items, Item{ID: "check", Label: "Check now", Enabled: s.Activated && ui.Busy == "", Action: ActionCheck})
	// Below the actions, so showing or dropping it moves none of them.
	if ui.Result != "" {
		items = append(items, info("result", clean(ui.Result)))
	}
	return items
}

func deactivateLines(s *agentapi.Status, ui UIState) []Item {
	if !s.DeactivateOK {
		note := clean(s.DeactivateNote)
		if note == "" {
			note = "Your organization manages this computer"
		}
		return []Item{
			{ID: "deactivate", Label: "Deactivate this computer…", Action: ActionDeactivate},
			info("deactivate-note", note),
		}
	}
	if ui.ConfirmingDeactivation {
		// The same single line, turned into a submenu: no top-level item
		// moves, so a click aimed at another line cannot land on the
		// confirmation; "Yes" is the submenu's last entry, away from where
		// the pointer enters it.
		return []Item{{ID: "deactivate", Label: "Confirm deactivation", Enabled: true, Children: []Item{
			info("deactivate-ask", "Free this computer's seat? Signing stops."),
			sep("sep-deactivate"),
			{ID: "deactivate-cancel", Label: "Cancel", Enabled: true, Action: ActionDeactivateCancel},
			{ID: "deactivate-yes", Label: "Yes, deactivate", Enabled: true, Action: ActionDeactivateConfirm},
		}}}
	}
	return []Item{{ID: "deactivate", Label: "Deactivate this computer…", Enabled: true, Action: ActionDeactivate}}
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

func footer(agentHelp string, ui UIState) []Item {
	return []Item{
		{ID: "help", Label: "Help and support", Enabled: HelpURL(agentHelp, ui) != "", Action: ActionHelp},
		{ID: "quit", Label: "Quit", Enabled: true, Action: ActionQuit},
	}
}

func info(id, label string) Item { return Item{ID: id, Label: label} }

func sep(id string) Item { return Item{ID: id, Separator: true} }

func planName(p string) string {
	p = clean(p)
	if p == "" {
		return ""
	}
	r := []rune(p)
	r[0] = unicode.ToUpper(r[0])
	return string(r) + " plan"
}

// day formats a date in the location of now.
func day(t, now time.Time) string { return t.In(now.Location()).Format("2006-01-02") }

// when formats a moment: the time of day when it is today, else the date.
func when(t, now time.Time) string {
	t = t.In(now.Location())
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02")
}

func lastCheckin(s *agentapi.Status, now time.Time) string {
	if s.LastCheckin == nil {
		return "activation"
	}
	return when(*s.LastCheckin, now)
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
