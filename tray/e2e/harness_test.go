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
	tr := traytest.StartTray(t, bin, bus, env, "--agent-url", agent.URL(), "--state-dir", agent.stateDir,
		"--help-url", "https://help.example/entitle", "--max-backoff", "2s", "--log-level", "debug")

	// Active.
	st := tr.WaitItem(t, "Active — Pro plan, until 2027-03-01", 20*time.Second)
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
		return err == nil && tt == "Entitle — Active — Pro plan, until 2027-03-01"
	})
	assertIcon(t, tr, "active")

	// Help opens the configured page.
	tr.ClickLabel(t, "Help and support")
	testenv.WaitFor(t, 10*time.Second, "help page opened", func() bool { return contains(opened(), "https://help.example/entitle") })

	// Deactivate: confirmation inside the menu, then the agent is asked.
	tr.ClickLabel(t, "Deactivate this computer…")
	tr.WaitItem(t, "Yes, deactivate", 10*time.Second)
	tr.ClickLabel(t, "Cancel")
	waitGone(t, tr, "Yes, deactivate", 10*time.Second)
	tr.ClickLabel(t, "Deactivate this computer…")
	tr.ClickLabel(t, "Yes, deactivate")
	tr.WaitItem(t, "Not activated", 10*time.Second)
	tr.WaitItem(t, "This computer was deactivated", 10*time.Second)
	if !contains(agent.Requests(), "DELETE "+agentapi.PathActivation+" ") {
		t.Errorf("agent got no deactivation: %v", agent.Requests())
	}
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

	// The agent finishes the sign-in and pushes the new status.
	agent.set(func(s *agentapi.Status) { *s = activeStatus() })
	tr.WaitItem(t, "Active — Pro plan", 10*time.Second)
	waitGone(t, tr, "Sign-in code", 10*time.Second)

	// Our own deactivation raised no notification; a remote one does.
	for _, n := range notes.Notes() {
		if n.Summary == "This computer was deactivated" {
			t.Errorf("notification for a deactivation asked in the tray: %+v", n)
		}
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
	tr.WaitItem(t, "Offline — licensed until 2027-03-01", 10*time.Second)
	assertIcon(t, tr, "attention")

	// The agent stops: the tray says so and keeps running; it recovers when the agent returns.
	addr := agent.addr
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
	tr := traytest.StartTray(t, bin, bus, nil, "--agent-url", "http://127.0.0.1:1", "--state-dir", dir)
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
