//go:build linux

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/tray/traytest"
)

func activeStatus() agentapi.Status {
	term := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	return agentapi.Status{
		Entitlement:  agentapi.Entitlement{State: agentapi.StateActive, Entitled: true, Plan: "pro", TermEnd: &term},
		Activated:    true,
		Account:      "ada@example.com",
		DeactivateOK: true,
		Profiles:     &agentapi.ProfilesStatus{Folder: "/tmp", Count: 1, Default: "Work"},
	}
}

// TestHarnessWithHTTPAgent proves the D-Bus harness and the tray's own logic
// (rendering, clicks, confirmation step, sign-in, notifications, reconnect)
// against an httptest agent; TestRealAgent does the same with the real one.
func TestHarnessWithHTTPAgent(t *testing.T) {
	bin := trayBinary(t)
	bus := traytest.StartBus(t)
	watcher := bus.StartWatcher(t)
	notes := bus.StartNotifications(t)
	agent := newFakeAgent(t, activeStatus())
	env, opened := opener(t)
	tr := traytest.StartTray(t, bin, bus, env, "--listen", agent.addr, "--state-dir", agent.stateDir,
		"--help-url", "https://help.example/entitle", "--max-backoff", "2s", "--log-level", "debug")

	// Active.
	st := tr.WaitItem(t, "Active — Pro plan, until March 1, 2027", 20*time.Second)
	if st.Enabled {
		t.Error("status line is clickable")
	}
	items := tr.StableLayout(t, "Quit", 10*time.Second)
	for _, want := range []string{"Account: ada@example.com", "1 profile (default: Work)", "Deactivate this computer…", "Check now", "Help and support", "Quit"} {
		if it, ok := traytest.Find(items, want); !ok || !it.Enabled == (want != "Account: ada@example.com" && want != "1 profile (default: Work)") {
			t.Errorf("item %q: %+v (menu %v)", want, it, items)
		}
	}
	if _, ok := traytest.Find(items, "Activate…"); ok {
		t.Error("Activate… shown while active")
	}
	testenv.WaitFor(t, 10*time.Second, "watcher registration", func() bool {
		for _, it := range watcher.Items() {
			if strings.HasSuffix(it, "/StatusNotifierItem") {
				return true
			}
		}
		return false
	})
	testenv.WaitFor(t, 10*time.Second, "the tooltip", func() bool {
		tt, err := tr.Tooltip()
		return err == nil && tt == "Entitle — Active — Pro plan, until March 1, 2027"
	})
	assertIcon(t, tr, "active")

	// Help opens the configured page.
	tr.ClickLabel(t, "Help and support")
	testenv.WaitFor(t, 10*time.Second, "help page opened", func() bool { return contains(opened(), "https://help.example/entitle") })

	// Deactivate: the click announces the confirmation (the menu closes on
	// it); the line becomes a submenu at the same place, so "Check now" and
	// every other line stay where they were and "Yes, deactivate" is
	// nowhere a top-level line was.
	before := tr.StableLayout(t, "Quit", 10*time.Second)
	tr.ClickLabel(t, "Deactivate this computer…")
	tr.WaitItem(t, "Confirm deactivation", 10*time.Second)
	after := tr.StableLayout(t, "Quit", 10*time.Second)
	assertConfirmPlacement(t, before, after)
	if yes, ok := traytest.Find(after, "Yes, deactivate"); !ok || !yes.Enabled {
		t.Errorf("no enabled Yes in the confirmation submenu: %v", after)
	}
	testenv.WaitFor(t, 10*time.Second, "the notification announcing the confirmation", func() bool {
		return noteCount(notes, "Confirm deactivation") == 1
	})
	tr.ClickLabel(t, "Cancel")
	tr.WaitItem(t, "Deactivate this computer…", 10*time.Second)
	waitGone(t, tr, "Yes, deactivate", 10*time.Second)
	tr.ClickLabel(t, "Deactivate this computer…")
	tr.ClickLabel(t, "Yes, deactivate")
	tr.WaitItem(t, "Not activated", 10*time.Second)
	tr.WaitItem(t, "This computer was deactivated", 10*time.Second)
	if !contains(agent.Requests(), "DELETE "+agentapi.PathActivation+" ") {
		t.Errorf("agent got no deactivation: %v", agent.Requests())
	}
	testenv.WaitFor(t, 10*time.Second, "the notification with the result", func() bool {
		return noteCount(notes, "This computer was deactivated") == 1
	})
	assertIcon(t, tr, "inactive")

	// Activate: browser sign-in through the agent; the code is shown and the page opened.
	tr.ClickLabel(t, "Activate…")
	tr.WaitItem(t, "Sign-in code: ABCD-EFGH", 10*time.Second)
	testenv.WaitFor(t, 10*time.Second, "sign-in page opened", func() bool {
		return contains(opened(), "https://signin.example/device?code=ABCD-EFGH")
	})
	if !contains(agent.Requests(), `POST `+agentapi.PathActivation+` {"method":"browser"}`) {
		t.Errorf("agent got no browser activation: %v", agent.Requests())
	}
	tr.WaitItem(t, "Sign in in your browser to finish", 10*time.Second)

	// The agent stops during the sign-in: nothing about that sign-in stays
	// under "Agent not running".
	addr := agent.addr
	agent.shutdown()
	tr.WaitItem(t, "Agent not running", 10*time.Second)
	for _, stale := range []string{"Sign in in your browser", "Sign-in code", "Open sign-in page"} {
		waitGone(t, tr, stale, 10*time.Second)
	}
	agent.start(addr)
	tr.WaitItem(t, "Not activated", 15*time.Second)

	// The agent finishes a sign-in and pushes the new status.
	agent.set(func(s *agentapi.Status) { *s = activeStatus() })
	tr.WaitItem(t, "Active — Pro plan", 10*time.Second)
	waitGone(t, tr, "Sign-in code", 10*time.Second)

	// Our own deactivation raised one notification (the result, not
	// urgent); a remote one raises the urgent one.
	if n := noteCount(notes, "This computer was deactivated"); n != 1 {
		t.Errorf("%d notifications for the deactivation asked in the tray: %+v", n, notes.Notes())
	}
	agent.set(func(s *agentapi.Status) {
		s.Activated = false
		s.Entitlement = agentapi.Entitlement{State: agentapi.StateInactive}
	})
	tr.WaitItem(t, "Not activated", 10*time.Second)
	testenv.WaitFor(t, 10*time.Second, "remote deactivation notification", func() bool {
		for _, n := range notes.Notes() {
			if n.Summary == "This computer was deactivated" && n.AppName == "Entitle" && n.Urgency == 2 {
				return true
			}
		}
		return false
	})

	// Remote-only management: deactivation disabled with the reason.
	agent.set(func(s *agentapi.Status) {
		*s = activeStatus()
		s.Organization = "Acme"
		s.Entitlement.ManagementMode = "remote"
		s.DeactivateOK = false
		s.DeactivateNote = "Only Acme can release this seat"
	})
	tr.WaitItem(t, "Managed by Acme", 10*time.Second)
	if it := tr.WaitItem(t, "Deactivate this computer…", 5*time.Second); it.Enabled {
		t.Error("deactivation enabled under remote-only management")
	}
	tr.WaitItem(t, "Only Acme can release this seat", 5*time.Second)

	// Offline: attention icon.
	agent.set(func(s *agentapi.Status) {
		s.Entitlement.State = agentapi.StateOffline
		since := time.Now().Add(-48 * time.Hour)
		s.OfflineSince = &since
	})
	tr.WaitItem(t, "Offline — licensed until March 1, 2027", 10*time.Second)
	assertIcon(t, tr, "attention")

	// A check fails: one short, stable line, no raw Go error, no line wider
	// than the menu should be.
	agent.mu.Lock()
	agent.checkFails = true
	agent.mu.Unlock()
	tr.ClickLabel(t, "Check now")
	tr.WaitItem(t, "Check failed: the licensing server cannot be reached", 10*time.Second)
	for _, it := range flatten(tr.StableLayout(t, "Quit", 10*time.Second)) {
		if strings.Contains(it.Label, "dial tcp") || strings.Contains(it.Label, "http://") {
			t.Errorf("raw error in the menu: %q", it.Label)
		}
		if n := len([]rune(it.Label)); n > 72 {
			t.Errorf("menu line of %d characters: %q", n, it.Label)
		}
	}
	// The server is back and the agent checks in by itself: the failed
	// check is not left under a green "Active".
	agent.mu.Lock()
	agent.checkFails = false
	agent.mu.Unlock()
	agent.set(func(s *agentapi.Status) {
		s.Entitlement.State = agentapi.StateActive
		s.OfflineSince = nil
		now := time.Now()
		s.LastCheckin = &now
	})
	tr.WaitItem(t, "Active — Pro plan", 10*time.Second)
	waitGone(t, tr, "Check failed", 10*time.Second)
	agent.set(func(s *agentapi.Status) { s.Entitlement.State = agentapi.StateOffline })
	tr.WaitItem(t, "Offline — licensed until March 1, 2027", 10*time.Second)

	// The agent stops: the tray says so and keeps running; it recovers when the agent returns.
	addr = agent.addr
	agent.shutdown()
	tr.WaitItem(t, "Agent not running", 10*time.Second)
	assertIcon(t, tr, "inactive")
	if tr.Exited() {
		t.Fatalf("tray exited when the agent stopped:\n%s", tr.Output())
	}
	agent.start(addr)
	tr.WaitItem(t, "Offline — licensed until", 15*time.Second)

	// Quit ends the process cleanly.
	tr.ClickLabel(t, "Quit")
	if err, ok := tr.Wait(10 * time.Second); !ok || err != nil {
		t.Fatalf("tray after Quit: exited=%v err=%v", ok, err)
	}
}

// assertConfirmPlacement checks that opening the confirmation moved no
// top-level line and put no confirmation at the top level.
func assertConfirmPlacement(t *testing.T, before, after []traytest.MenuItem) {
	t.Helper()
	if len(before) != len(after) {
		t.Fatalf("the menu changed length when the confirmation opened:\n%v\n%v", before, after)
	}
	i := traytest.Index(before, "Deactivate this computer…")
	if i < 0 || traytest.Index(after, "Confirm deactivation") != i {
		t.Errorf("the confirmation is not where Deactivate… was:\n%v\n%v", before, after)
	}
	for j := range before {
		if j != i && before[j].Label != after[j].Label {
			t.Errorf("line %d moved: %q -> %q", j, before[j].Label, after[j].Label)
		}
	}
	for _, it := range after {
		if strings.HasPrefix(it.Label, "Yes") {
			t.Errorf("%q is a top-level line", it.Label)
		}
	}
	if c := after[i]; len(c.Children) == 0 || c.Children[len(c.Children)-1].Label != "Yes, deactivate" {
		t.Errorf("the submenu does not end with Yes, deactivate: %v", c)
	}
}

func noteCount(n *traytest.Notifications, summary string) int {
	c := 0
	for _, x := range n.Notes() {
		if x.Summary == summary {
			c++
		}
	}
	return c
}

func flatten(items []traytest.MenuItem) []traytest.MenuItem {
	var out []traytest.MenuItem
	for _, it := range items {
		out = append(out, it)
		out = append(out, flatten(it.Children)...)
	}
	return out
}

// TestDeactivationConfirmationExpires: a confirmation nobody answers closes
// by itself and deactivates nothing.
func TestDeactivationConfirmationExpires(t *testing.T) {
	bin := trayBinary(t)
	bus := traytest.StartBus(t)
	notes := bus.StartNotifications(t)
	agent := newFakeAgent(t, activeStatus())
	tr := traytest.StartTray(t, bin, bus, nil, "--listen", agent.addr, "--state-dir", agent.stateDir, "--confirm-timeout", "1s")
	tr.WaitItem(t, "Active — Pro plan", 20*time.Second)
	tr.ClickLabel(t, "Deactivate this computer…")
	tr.WaitItem(t, "Confirm deactivation", 10*time.Second)
	tr.WaitItem(t, "Deactivation not confirmed: nothing changed", 10*time.Second)
	tr.WaitItem(t, "Deactivate this computer…", time.Second)
	waitGone(t, tr, "Yes, deactivate", time.Second)
	if contains(agent.Requests(), "DELETE "+agentapi.PathActivation+" ") {
		t.Error("an expired confirmation deactivated")
	}
	if n := noteCount(notes, "Confirm deactivation"); n != 1 {
		t.Errorf("%d notifications announcing the confirmation", n)
	}
}

// assertIcon checks the color of the 32-px icon's disc just above the glyph.
func assertIcon(t *testing.T, tr *traytest.Tray, kind string) {
	t.Helper()
	want := map[string][4]byte{ // ARGB of the disc, as drawn by tray/icons
		"active": {0xff, 0x2e, 0x9e, 0x4f}, "attention": {0xff, 0xf2, 0xa9, 0x1d}, "inactive": {0xff, 0x8a, 0x8a, 0x8a},
	}[kind]
	var got [4]byte
	testenv.WaitFor(t, 10*time.Second, "icon "+kind, func() bool {
		var w int
		var err error
		got, w, err = tr.Pixel(16, 4)
		return err == nil && w == 32 && got == want
	})
}

func TestTrayWithoutAgentOrWatcher(t *testing.T) {
	bin := trayBinary(t)
	bus := traytest.StartBus(t)
	dir := t.TempDir() // no token file: the agent never ran
	tr := traytest.StartTray(t, bin, bus, nil, "--listen", "127.0.0.1:1", "--state-dir", dir)
	tr.WaitItem(t, "Agent not running", 20*time.Second)
	items := tr.StableLayout(t, "Quit", 10*time.Second)
	if it, ok := traytest.Find(items, "Help and support"); !ok || it.Enabled {
		t.Errorf("help without a URL should be disabled: %v", items)
	}
	if it, ok := traytest.Find(items, "Quit"); !ok || !it.Enabled {
		t.Errorf("Quit missing: %v", items)
	}
	// A click on a disabled item does nothing; the tray keeps running.
	if it, ok := traytest.Find(items, "Agent not running"); ok {
		_ = tr.Click(it.ID)
	}
	time.Sleep(300 * time.Millisecond)
	if tr.Exited() {
		t.Fatalf("tray exited:\n%s", tr.Output())
	}
}

// TestNotConfigured: an agent without the settings to reach a licensing
// server says so with its reason; the tray offers no activation or check.
func TestNotConfigured(t *testing.T) {
	bin := trayBinary(t)
	bus := traytest.StartBus(t)
	agent := newFakeAgent(t, agentapi.Status{Entitlement: agentapi.Entitlement{
		State: agentapi.StateNotConfigured, Reason: "no pinned server keys: set pinned_keys in /etc/entitle/agent.toml"}})
	tr := traytest.StartTray(t, bin, bus, nil, "--listen", agent.addr, "--state-dir", agent.stateDir)
	tr.WaitItem(t, "Not configured — no licensing server set up", 20*time.Second)
	items := tr.StableLayout(t, "Quit", 10*time.Second)
	if _, ok := traytest.Find(items, "no pinned server keys: set pinned_keys"); !ok {
		t.Errorf("the agent's reason is not shown: %v", items)
	}
	if _, ok := traytest.Find(items, "Activate…"); ok {
		t.Errorf("Activate… offered without a licensing server: %v", items)
	}
	if it, ok := traytest.Find(items, "Check now"); !ok || it.Enabled {
		t.Errorf("Check now: %+v", it)
	}
	testenv.WaitFor(t, 10*time.Second, "the tooltip", func() bool {
		tt, err := tr.Tooltip()
		return err == nil && tt == "Entitle — Not configured — no licensing server set up"
	})
	assertIcon(t, tr, "inactive")
}
