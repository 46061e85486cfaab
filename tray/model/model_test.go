package model

import (
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
)

var now = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

// catalog is parsed once for the package's tests; en and fr render in each
// language.
var (
	catalog = i18n.New()
	en      = catalog.Localizer(i18n.English)
	fr      = catalog.Localizer(i18n.French)
)

func at(d time.Duration) *time.Time { t := now.Add(d); return &t }

func date(s string) *time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return &t
}

const day1 = 24 * time.Hour

// st builds a status; mods adjust it.
func st(state agentapi.State, mods ...func(*agentapi.Status)) *agentapi.Status {
	s := &agentapi.Status{
		Entitlement:  agentapi.Entitlement{State: state, Entitled: state.Entitled(), Plan: "pro"},
		Activated:    state != agentapi.StateInactive,
		DeactivateOK: true,
		Profiles:     &agentapi.ProfilesStatus{Folder: "/home/u/profiles", Count: 2, Default: "Work"},
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

type want struct {
	icon     IconKind
	status   string
	enabled  []string // item ids that must be present and enabled
	disabled []string // item ids that must be present and disabled
	absent   []string // item ids that must not be present
	labels   map[string]string
}

func check(t *testing.T, m Menu, w want) {
	t.Helper()
	byID := map[string]Item{}
	var walk func([]Item)
	walk = func(items []Item) {
		for _, it := range items {
			if _, dup := byID[it.ID]; dup {
				t.Errorf("duplicate item id %q", it.ID)
			}
			byID[it.ID] = it
			if !it.Separator && it.Label == "" {
				t.Errorf("item %q has no label", it.ID)
			}
			if it.Enabled && it.Action == ActionNone && len(it.Children) == 0 {
				t.Errorf("item %q enabled without an action", it.ID)
			}
			if len(it.Children) > 0 && it.Action != ActionNone {
				t.Errorf("submenu %q has an action: desktops send no click for it", it.ID)
			}
			if n := len([]rune(it.Label)); n > maxLabel+24 {
				t.Errorf("item %q is %d characters long", it.ID, n)
			}
			walk(it.Children)
		}
	}
	walk(m.Items)
	if m.Icon != w.icon {
		t.Errorf("icon %q, want %q", m.Icon, w.icon)
	}
	if got := byID["status"].Label; got != w.status {
		t.Errorf("status line %q, want %q", got, w.status)
	}
	if m.Tooltip != "Entitle — "+w.status {
		t.Errorf("tooltip %q", m.Tooltip)
	}
	if len(m.Items) == 0 || m.Items[0].ID != "status" || m.Items[len(m.Items)-1].ID != "quit" {
		t.Errorf("menu must start with the status and end with Quit: %v", ids(m))
	}
	for _, id := range w.enabled {
		if it, ok := byID[id]; !ok || !it.Enabled {
			t.Errorf("item %q missing or disabled (%v)", id, ids(m))
		}
	}
	for _, id := range w.disabled {
		if it, ok := byID[id]; !ok || it.Enabled {
			t.Errorf("item %q missing or enabled (%v)", id, ids(m))
		}
	}
	for _, id := range w.absent {
		if _, ok := byID[id]; ok {
			t.Errorf("item %q present", id)
		}
	}
	for id, l := range w.labels {
		if got := byID[id].Label; got != l {
			t.Errorf("item %q label %q, want %q", id, got, l)
		}
	}
}

func ids(m Menu) []string {
	var out []string
	for _, it := range m.Items {
		out = append(out, it.ID)
	}
	return out
}

func TestBuild(t *testing.T) {
	help := UIState{HelpURL: "https://help.example/entitle"}
	tests := []struct {
		name string
		s    *agentapi.Status
		conn ConnState
		ui   UIState
		want want
	}{
		{
			name: "active with term", conn: ConnConnected, ui: help,
			s: st(agentapi.StateActive, func(s *agentapi.Status) {
				s.Entitlement.TermEnd = date("2027-03-01")
				s.Account = "ada@example.com"
			}),
			want: want{icon: IconActive, status: "Active — Pro plan, until March 1, 2027",
				enabled:  []string{"deactivate", "check", "open-profiles", "help", "quit"},
				disabled: []string{"account", "profiles"},
				absent:   []string{"activate", "managed", "organization", "deactivate-yes", "busy", "result", "signin-code"},
				labels: map[string]string{"account": "Account: ada@example.com", "profiles": "2 profiles (default: Work)",
					"deactivate": "Deactivate this computer…"}},
		},
		{
			name: "active no term no plan, help from agent", conn: ConnConnected,
			s:    st(agentapi.StateActive, func(s *agentapi.Status) { s.Entitlement.Plan = ""; s.HelpURL = "https://agent.example/help" }),
			want: want{icon: IconActive, status: "Active", enabled: []string{"help"}},
		},
		{
			name: "active no plan with term", conn: ConnConnected,
			s:    st(agentapi.StateActive, func(s *agentapi.Status) { s.Entitlement.Plan = ""; s.Entitlement.TermEnd = date("2027-03-01") }),
			want: want{icon: IconActive, status: "Active — until March 1, 2027", disabled: []string{"help"}},
		},
		{
			name: "active term ends within 30 days", conn: ConnConnected,
			s:    st(agentapi.StateActive, func(s *agentapi.Status) { s.Entitlement.TermEnd = at(10 * day1) }),
			want: want{icon: IconAttention, status: "Active — Pro plan, until June 25, 2026"},
		},
		{
			name: "active organization not managed", conn: ConnConnected,
			s: st(agentapi.StateActive, func(s *agentapi.Status) { s.Organization = "Acme"; s.Workspace = "Legal" }),
			want: want{icon: IconActive, status: "Active — Pro plan", disabled: []string{"organization", "workspace"}, absent: []string{"managed"},
				labels: map[string]string{"organization": "Organization: Acme", "workspace": "Workspace: Legal"}},
		},
		{
			name: "managed remote-only", conn: ConnConnected,
			s: st(agentapi.StateActive, func(s *agentapi.Status) {
				s.Organization = "Acme"
				s.Entitlement.ManagementMode = "remote"
				s.DeactivateOK = false
				s.DeactivateNote = "Only Acme's administrators can release this seat"
			}),
			want: want{icon: IconActive, status: "Active — Pro plan",
				disabled: []string{"managed", "deactivate", "deactivate-note"}, absent: []string{"organization", "deactivate-yes"},
				labels: map[string]string{"managed": "Managed by Acme", "deactivate-note": "Only Acme's administrators can release this seat"}},
		},
		{
			name: "managed without organization or note", conn: ConnConnected,
			s: st(agentapi.StateActive, func(s *agentapi.Status) {
				s.Entitlement.ManagementMode = "managed"
				s.DeactivateOK = false
			}),
			want: want{icon: IconActive, status: "Active — Pro plan", disabled: []string{"managed", "deactivate", "deactivate-note"},
				labels: map[string]string{"managed": "Managed by your organization", "deactivate-note": "Your organization manages this computer"}},
		},
		{
			name: "self mode is not managed", conn: ConnConnected,
			s:    st(agentapi.StateActive, func(s *agentapi.Status) { s.Entitlement.ManagementMode = "self" }),
			want: want{icon: IconActive, status: "Active — Pro plan", absent: []string{"managed"}},
		},
		{
			name: "confirming deactivation", conn: ConnConnected, ui: UIState{ConfirmingDeactivation: true},
			s: st(agentapi.StateActive),
			want: want{icon: IconActive, status: "Active — Pro plan",
				enabled: []string{"deactivate", "deactivate-yes", "deactivate-cancel", "check"}, disabled: []string{"deactivate-ask"},
				labels: map[string]string{"deactivate": "Confirm deactivation", "deactivate-yes": "Yes, deactivate", "deactivate-cancel": "Cancel"}},
		},
		{
			name: "confirming but not allowed", conn: ConnConnected, ui: UIState{ConfirmingDeactivation: true},
			s:    st(agentapi.StateActive, func(s *agentapi.Status) { s.DeactivateOK = false }),
			want: want{icon: IconActive, status: "Active — Pro plan", disabled: []string{"deactivate"}, absent: []string{"deactivate-yes"}},
		},
		{
			name: "busy deactivating", conn: ConnConnected, ui: UIState{Busy: "Deactivating…"},
			s: st(agentapi.StateActive),
			want: want{icon: IconActive, status: "Active — Pro plan", disabled: []string{"busy", "check"}, absent: []string{"deactivate", "activate"},
				labels: map[string]string{"busy": "Deactivating…"}},
		},
		{
			name: "result after deactivation", conn: ConnConnected, ui: UIState{Result: "This computer was deactivated"},
			s: st(agentapi.StateInactive),
			want: want{icon: IconInactive, status: "Not activated", enabled: []string{"activate"}, disabled: []string{"result", "check"},
				absent: []string{"deactivate"}, labels: map[string]string{"result": "This computer was deactivated"}},
		},
		{
			name: "offline", conn: ConnConnected,
			s: st(agentapi.StateOffline, func(s *agentapi.Status) {
				s.Entitlement.TermEnd = date("2027-03-01")
				s.Entitlement.LeaseExpiry = date("2026-12-01")
				s.OfflineSince = date("2026-06-10")
				s.LastError = "dial tcp: connection refused"
			}),
			want: want{icon: IconAttention, status: "Offline — licensed until March 1, 2027",
				enabled: []string{"deactivate", "check"}, disabled: []string{"offline"}, absent: []string{"last-error"},
				labels: map[string]string{"offline": "Offline since June 10, 2026; works until December 1, 2026"}},
		},
		{
			name: "offline: licensed until the term end, not the grace end", conn: ConnConnected,
			s: st(agentapi.StateOffline, func(s *agentapi.Status) {
				s.Entitlement.TermEnd = date("2027-03-01")
				s.Entitlement.LeaseExpiry = date("2026-12-01")
				s.GraceUntil = date("2026-07-01")
				s.OfflineSince = at(-2 * time.Hour)
			}),
			want: want{icon: IconAttention, status: "Offline — licensed until March 1, 2027",
				labels: map[string]string{"offline": "Offline since 10:00 AM; works until July 1, 2026"}},
		},
		{
			name: "offline no dates", conn: ConnConnected, s: st(agentapi.StateOffline),
			want: want{icon: IconAttention, status: "Offline", labels: map[string]string{"offline": "The licensing server cannot be reached"}},
		},
		{
			name: "offline with a raw error and a failed check: no raw error, said once", conn: ConnConnected,
			ui: UIState{Result: ResultText(en, Outcome{Op: OpCheck, Code: agentapi.ErrUnavailable,
				Message: `cannot reach the licensing server at http://127.0.0.1:8780: Post "http://127.0.0.1:8780/v1/checkin": dial tcp 127.0.0.1:8780: connect: connection refused`})},
			s: st(agentapi.StateOffline, func(s *agentapi.Status) {
				s.Entitlement.TermEnd = date("2027-03-01")
				s.OfflineSince = date("2026-06-10")
				s.LastError = `cannot reach the licensing server at http://127.0.0.1:8780: Post "http://127.0.0.1:8780/v1/checkin": dial tcp 127.0.0.1:8780: connect: connection refused`
			}),
			want: want{icon: IconAttention, status: "Offline — licensed until March 1, 2027", absent: []string{"last-error"},
				labels: map[string]string{"offline": "Offline since June 10, 2026; works until March 1, 2027",
					"result": "Check failed: the licensing server cannot be reached"}},
		},
		{
			name: "not configured", conn: ConnConnected, ui: help,
			s: st(agentapi.StateNotConfigured, func(s *agentapi.Status) {
				s.Activated = false
				s.Entitlement.Reason = "no pinned server keys: set pinned_keys in agent.toml"
			}),
			want: want{icon: IconInactive, status: "Not configured — no licensing server set up",
				enabled: []string{"help"}, disabled: []string{"not-configured", "check"}, absent: []string{"activate", "deactivate"},
				labels: map[string]string{"not-configured": "no pinned server keys: set pinned_keys in agent.toml"}},
		},
		{
			name: "not configured without reason", conn: ConnConnected,
			s: st(agentapi.StateNotConfigured, func(s *agentapi.Status) { s.Activated = false }),
			want: want{icon: IconInactive, status: "Not configured — no licensing server set up",
				labels: map[string]string{"not-configured": "Ask your administrator to finish the setup"}},
		},
		{
			name: "not activated", conn: ConnConnected, ui: help, s: st(agentapi.StateInactive),
			want: want{icon: IconInactive, status: "Not activated", enabled: []string{"activate", "help"}, disabled: []string{"check"},
				absent: []string{"deactivate", "deactivate-note"}, labels: map[string]string{"activate": "Activate…"}},
		},
		{
			name: "sign-in pending from agent", conn: ConnConnected,
			s: st(agentapi.StateInactive, func(s *agentapi.Status) {
				s.Pending = &agentapi.PendingAuth{UserCode: "ABCD-EFGH", VerificationURI: "https://x.example/device", ExpiresAt: now.Add(time.Minute)}
			}),
			want: want{icon: IconInactive, status: "Not activated", enabled: []string{"signin-open", "activate"}, disabled: []string{"signin-code"},
				labels: map[string]string{"signin-code": "Sign-in code: ABCD-EFGH"}},
		},
		{
			name: "sign-in pending from tray", conn: ConnConnected,
			ui: UIState{SignIn: &agentapi.PendingAuth{UserCode: "WXYZ", VerificationURIComplete: "https://x.example/device?c=WXYZ"}},
			s:  st(agentapi.StateInactive),
			want: want{icon: IconInactive, status: "Not activated", enabled: []string{"signin-open"},
				labels: map[string]string{"signin-code": "Sign-in code: WXYZ"}},
		},
		{
			name: "tray sign-in hidden once activated", conn: ConnConnected,
			ui:   UIState{SignIn: &agentapi.PendingAuth{UserCode: "WXYZ", VerificationURI: "https://x.example/d"}},
			s:    st(agentapi.StateActive),
			want: want{icon: IconActive, status: "Active — Pro plan", absent: []string{"signin-code", "signin-open"}},
		},
		{
			name: "sign-in expired", conn: ConnConnected,
			s: st(agentapi.StateInactive, func(s *agentapi.Status) {
				s.Pending = &agentapi.PendingAuth{UserCode: "ABCD", VerificationURI: "https://x.example/d", ExpiresAt: now}
			}),
			want: want{icon: IconInactive, status: "Not activated", absent: []string{"signin-code", "signin-open"}},
		},
		{
			name: "sign-in with unsafe URL", conn: ConnConnected,
			s: st(agentapi.StateInactive, func(s *agentapi.Status) {
				s.Pending = &agentapi.PendingAuth{UserCode: "ABCD", VerificationURI: "file:///etc/passwd"}
			}),
			want: want{icon: IconInactive, status: "Not activated", disabled: []string{"signin-code"}, absent: []string{"signin-open"}},
		},
		{
			name: "expired term", conn: ConnConnected,
			s:    st(agentapi.StateExpired, func(s *agentapi.Status) { s.Entitlement.TermEnd = date("2026-06-01") }),
			want: want{icon: IconInactive, status: "Expired — license ended June 1, 2026", enabled: []string{"deactivate", "check"}, absent: []string{"activate"}},
		},
		{
			name: "expired lease", conn: ConnConnected,
			s: st(agentapi.StateExpired, func(s *agentapi.Status) {
				s.Entitlement.LeaseExpiry = at(-time.Hour)
				s.LastCheckin = date("2026-05-01")
			}),
			want: want{icon: IconInactive, status: "Expired — not checked in since May 1, 2026"},
		},
		{
			name: "expired lease never checked in", conn: ConnConnected,
			s:    st(agentapi.StateExpired, func(s *agentapi.Status) { s.Entitlement.LeaseExpiry = at(-time.Hour) }),
			want: want{icon: IconInactive, status: "Expired — not checked in since activation"},
		},
		{
			name: "expired reason", conn: ConnConnected,
			s:    st(agentapi.StateExpired, func(s *agentapi.Status) { s.Entitlement.Reason = "license term over" }),
			want: want{icon: IconInactive, status: "Expired — license term over"},
		},
		{
			name: "expired bare", conn: ConnConnected, s: st(agentapi.StateExpired),
			want: want{icon: IconInactive, status: "Expired"},
		},
		{
			name: "suspended", conn: ConnConnected,
			s:    st(agentapi.StateSuspended, func(s *agentapi.Status) { s.Entitlement.Reason = "device revoked" }),
			want: want{icon: IconInactive, status: "Suspended — device revoked"},
		},
		{
			name: "suspended bare", conn: ConnConnected, s: st(agentapi.StateSuspended),
			want: want{icon: IconInactive, status: "Suspended by the licensing server"},
		},
		{
			name: "tampered", conn: ConnConnected, s: st(agentapi.StateTampered),
			want: want{icon: IconInactive, status: "License check failed — the clock or license file changed"},
		},
		{
			name: "tampered reason", conn: ConnConnected,
			s:    st(agentapi.StateTampered, func(s *agentapi.Status) { s.Entitlement.Reason = "clock rolled back" }),
			want: want{icon: IconInactive, status: "License check failed — clock rolled back"},
		},
		{
			name: "foreign", conn: ConnConnected, s: st(agentapi.StateForeign),
			want: want{icon: IconInactive, status: "Activated on another computer", enabled: []string{"activate", "deactivate"}},
		},
		{
			name: "unknown state sanitized", conn: ConnConnected, s: st("weird\nstate\x00"),
			want: want{icon: IconInactive, status: "Unknown state weird state"},
		},
		{
			name: "agent not running", conn: ConnAgentNotRunning, s: st(agentapi.StateActive),
			ui: UIState{HelpURL: help.HelpURL, Result: "Sign in in your browser to finish", SignIn: &agentapi.PendingAuth{UserCode: "ABCD", VerificationURI: "https://x.example/d"}},
			want: want{icon: IconInactive, status: "Agent not running", enabled: []string{"help", "quit"}, disabled: []string{"conn-error"},
				absent: []string{"activate", "deactivate", "check", "open-profiles", "profiles", "result", "signin-code", "signin-open"}},
		},
		{
			name: "agent not running, no status ever", conn: ConnAgentNotRunning,
			want: want{icon: IconInactive, status: "Agent not running", disabled: []string{"help"}},
		},
		{
			name: "connecting", conn: ConnConnecting,
			want: want{icon: IconInactive, status: "Connecting to the agent…", absent: []string{"conn-error"}},
		},
		{
			name: "connected without status is connecting", conn: ConnConnected,
			want: want{icon: IconInactive, status: "Connecting to the agent…"},
		},
		{
			name: "failed", conn: ConnFailed, ui: UIState{Problem: ProblemUnauthorized, Result: "Could not check"},
			want: want{icon: IconInactive, status: "Cannot talk to the agent", disabled: []string{"conn-error"}, absent: []string{"result"},
				labels: map[string]string{"conn-error": "The agent refused the tray's API token"}},
		},
		{
			name: "configuration unreadable", conn: ConnFailed, ui: UIState{Problem: ProblemConfig},
			want: want{icon: IconInactive, status: "Cannot talk to the agent",
				labels: map[string]string{"conn-error": "Cannot read the agent's configuration file"}},
		},
		{
			name: "bad help URL ignored", conn: ConnConnected, ui: UIState{HelpURL: "javascript:alert(1)"},
			s:    st(agentapi.StateActive, func(s *agentapi.Status) { s.HelpURL = "file:///x" }),
			want: want{icon: IconActive, status: "Active — Pro plan", disabled: []string{"help"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, Build(en, tc.s, tc.conn, tc.ui, now), tc.want)
		})
	}
}

// TestConfirmationMovesNothing: opening the deactivation confirmation keeps
// every top-level line where it was (same count, same ids, same actions
// except the confirmation's own line, which becomes a submenu), so a click
// aimed at "Check now" cannot land on "Yes, deactivate".
func TestConfirmationMovesNothing(t *testing.T) {
	s := st(agentapi.StateActive, func(s *agentapi.Status) { s.Entitlement.TermEnd = date("2027-03-01") })
	before := Build(en, s, ConnConnected, UIState{Result: "Checked with the licensing server"}, now)
	after := Build(en, s, ConnConnected, UIState{ConfirmingDeactivation: true}, now)
	top := func(m Menu) []string {
		var out []string
		for _, it := range m.Items {
			if it.ID != "result" {
				out = append(out, it.ID+"/"+string(it.Action))
			}
		}
		return out
	}
	b, a := top(before), top(after)
	if len(b) != len(a) {
		t.Fatalf("top level changed length: %v -> %v", b, a)
	}
	for i := range b {
		if b[i] != a[i] && !(b[i] == "deactivate/"+string(ActionDeactivate) && a[i] == "deactivate/") {
			t.Errorf("line %d: %s -> %s", i, b[i], a[i])
		}
	}
	for i, it := range before.Items {
		if it.ID == "result" && i < len(before.Items)-1 && before.Items[i+1].ID != "sep-footer" && before.Items[i+1].ID != "help" {
			t.Errorf("the result line sits above action %q: showing it moves that action", before.Items[i+1].ID)
		}
	}
	for _, it := range after.Items {
		if it.Action == ActionDeactivateConfirm {
			t.Errorf("confirmation %q is a top-level item", it.Label)
		}
	}
}

func TestResultTextHasNoRawErrors(t *testing.T) {
	raw := `cannot reach the licensing server at http://127.0.0.1:8780: Post "http://127.0.0.1:8780/v1/checkin": dial tcp: connection refused`
	for _, code := range []string{agentapi.ErrUnavailable, agentapi.ErrUpstream, agentapi.ErrInternalError, agentapi.ErrUnauthorized, CodeNotRunning, CodeUnknown, "weird"} {
		got := ResultText(en, Outcome{Op: OpCheck, Code: code, Message: raw})
		if strings.Contains(got, "dial tcp") || strings.Contains(got, "http://") || len([]rune(got)) > 64 {
			t.Errorf("%s: %q", code, got)
		}
	}
	// The agent's English message is never shown: the code and its
	// arguments are worded.
	fr := i18n.New().Localizer(i18n.French)
	for _, c := range []struct {
		loc  *i18n.Localizer
		o    Outcome
		want string
	}{
		{en, Outcome{Op: OpDeactivate, Code: agentapi.ErrManagedRemotely, Args: map[string]string{"organization": "Acme"}, Message: "managed remotely by Acme; ask your administrator"},
			"Deactivation failed: managed remotely by Acme: ask your administrator"},
		{fr, Outcome{Op: OpDeactivate, Code: agentapi.ErrManagedRemotely, Args: map[string]string{"organization": "Acme"}, Message: "managed remotely by Acme; ask your administrator"},
			"Échec de la désactivation\u00a0: géré à distance par Acme\u00a0: adressez-vous à votre administrateur"},
		{fr, Outcome{Op: OpDeactivate, Code: agentapi.ErrForbidden, Message: "requests from web browsers are not accepted"}, "Échec de la désactivation\u00a0: non autorisé"},
		{fr, Outcome{Op: OpCheck, Code: agentapi.ErrConflict, Message: "this computer is not activated"}, ""},
	} {
		got := ResultText(c.loc, c.o)
		if strings.Contains(got, c.o.Message) || c.want != "" && got != c.want {
			t.Errorf("%+v: %q, want %q", c.o, got, c.want)
		}
	}
	if got := ResultText(en, Outcome{Op: OpCheck}); got != "Checked with the licensing server" {
		t.Errorf("ok: %q", got)
	}
}

func TestProfiles(t *testing.T) {
	tests := []struct {
		name     string
		p        *agentapi.ProfilesStatus
		icon     IconKind
		labels   map[string]string
		absent   []string
		disabled []string
	}{
		{name: "none reported", p: nil, icon: IconActive, disabled: []string{"open-profiles"}, absent: []string{"profiles"}},
		{name: "empty", p: &agentapi.ProfilesStatus{Folder: "/p"}, icon: IconActive,
			labels: map[string]string{"profiles": "No signature profiles", "open-profiles": "Open profiles folder"}},
		{name: "one default", p: &agentapi.ProfilesStatus{Folder: "/p", Count: 1, Default: "Me"}, icon: IconActive,
			labels: map[string]string{"profiles": "1 profile (default: Me)"}},
		{name: "no default", p: &agentapi.ProfilesStatus{Folder: "/p", Count: 3}, icon: IconActive,
			labels: map[string]string{"profiles": "3 profiles, no default"}},
		{name: "no folder", p: &agentapi.ProfilesStatus{Count: 3}, icon: IconActive, disabled: []string{"open-profiles"}},
		{name: "invalid", p: &agentapi.ProfilesStatus{Folder: "/p", Count: 3, Invalid: 1}, icon: IconAttention,
			labels: map[string]string{"profiles-invalid": "⚠ 1 profile is invalid"}},
		{name: "expired", p: &agentapi.ProfilesStatus{Folder: "/p", Count: 3, Expired: 2}, icon: IconAttention,
			labels: map[string]string{"profiles-expired": "⚠ 2 certificates have expired"}},
		{name: "expiring with date", p: &agentapi.ProfilesStatus{Folder: "/p", Count: 3, Expiring: 2, EarliestCertUntil: at(5 * day1)}, icon: IconAttention,
			labels: map[string]string{"profiles-expiring": "⚠ 2 certificates expire within 30 days (first on June 20, 2026)"}},
		{name: "expiring no date", p: &agentapi.ProfilesStatus{Folder: "/p", Count: 3, Expiring: 1}, icon: IconAttention,
			labels: map[string]string{"profiles-expiring": "⚠ 1 certificate expires within 30 days"}},
		{name: "earliest soon but not counted", p: &agentapi.ProfilesStatus{Folder: "/p", Count: 1, EarliestCertUntil: at(3 * day1)}, icon: IconAttention,
			labels: map[string]string{"profiles-expiring": "⚠ A certificate expires on June 18, 2026"}},
		{name: "earliest far", p: &agentapi.ProfilesStatus{Folder: "/p", Count: 1, EarliestCertUntil: at(90 * day1)}, icon: IconActive,
			absent: []string{"profiles-expiring"}},
		{name: "unlicensed", p: &agentapi.ProfilesStatus{Folder: "/p", Count: 5, Unlicensed: 2}, icon: IconActive,
			labels: map[string]string{"profiles-unlicensed": "⚠ 2 profiles are beyond your plan's limit"}},
		{name: "warnings bounded", p: &agentapi.ProfilesStatus{Folder: "/p", Count: 1, Warnings: []string{"English for logs"},
			NotProfiles: []agentapi.NotAProfile{{Name: "a.p12", Code: "pkcs12_at_root"}, {Name: "b\nc.pem"}, {Name: ""}, {Name: "d"}, {Name: "e"}}}, icon: IconActive,
			labels: map[string]string{"profiles-warning-0": "⚠ a.p12 in the profile folder is not a profile", "profiles-warning-1": "⚠ b c.pem in the profile folder is not a profile",
				"profiles-more": "… and 2 more warnings"},
			absent: []string{"profiles-warning-2", "profiles-warning-3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := st(agentapi.StateActive, func(s *agentapi.Status) { s.Profiles = tc.p })
			check(t, Build(en, s, ConnConnected, UIState{}, now), want{icon: tc.icon, status: "Active — Pro plan",
				labels: tc.labels, absent: tc.absent, disabled: tc.disabled})
		})
	}
}

func TestCleanBoundsAgentText(t *testing.T) {
	s := st(agentapi.StateActive, func(s *agentapi.Status) { s.Account = strings.Repeat("é", 500) + "\x1b[31m" })
	m := Build(en, s, ConnConnected, UIState{}, now)
	for _, it := range m.Items {
		if len([]rune(it.Label)) > maxLabel+20 {
			t.Errorf("label %q not bounded", it.ID)
		}
		if strings.ContainsAny(it.Label, "\x1b\n\r\x00") {
			t.Errorf("label %q has control characters", it.ID)
		}
	}
}

func TestURLHelpers(t *testing.T) {
	tests := []struct {
		u  string
		ok bool
	}{
		{"https://a.example/x", true}, {"http://127.0.0.1:1/", true}, {"", false}, {"file:///etc", false},
		{"javascript:x", false}, {"https://a b", false}, {"https://a\n", false}, {"-https://a", false},
		{"https://" + strings.Repeat("a", 3000), false},
	}
	for _, tc := range tests {
		if got := WebURL(tc.u); got != tc.ok {
			t.Errorf("WebURL(%q) = %v", tc.u, got)
		}
	}
	ui := UIState{HelpURL: "https://cfg.example", SignIn: &agentapi.PendingAuth{VerificationURI: "https://ui.example"}}
	if got := HelpURL("https://agent.example", ui); got != "https://agent.example" {
		t.Errorf("HelpURL agent: %q", got)
	}
	if got := HelpURL("", ui); got != "https://cfg.example" {
		t.Errorf("HelpURL fallback: %q", got)
	}
	s := st(agentapi.StateInactive, func(s *agentapi.Status) {
		s.Pending = &agentapi.PendingAuth{VerificationURI: "https://a.example", VerificationURIComplete: "https://a.example?c=1"}
	})
	if got := SignInURL(s, ui); got != "https://a.example?c=1" {
		t.Errorf("SignInURL status: %q", got)
	}
	if got := SignInURL(st(agentapi.StateInactive), ui); got != "https://ui.example" {
		t.Errorf("SignInURL ui: %q", got)
	}
	if got := SignInURL(nil, UIState{}); got != "" {
		t.Errorf("SignInURL none: %q", got)
	}
}
