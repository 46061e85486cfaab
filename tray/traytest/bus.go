// Package traytest drives the real tray over a private D-Bus session bus, as
// /work/shared/notes/tray-testing.md describes: it starts dbus-daemon, can
// play the desktop's StatusNotifierWatcher and notification daemon, starts
// the entitle-tray binary on that bus, reads its menu with
// com.canonical.dbusmenu.GetLayout and clicks items with Event. Linux only.
package traytest

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/entitle/entitle/pkg/testenv"
)

// Bus is a private session bus and the test's own connection to it.
type Bus struct {
	Addr string
	Conn *dbus.Conn
}

// StartBus starts `dbus-daemon --session --nofork --print-address=1` and
// connects to it; both end with the test.
func StartBus(t testing.TB) *Bus {
	t.Helper()
	daemon := testenv.LookPath(t, "dbus-daemon")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, daemon, "--session", "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	addrc := make(chan string, 1)
	go func() { // ends when dbus-daemon's stdout closes (at cleanup)
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			addrc <- strings.TrimSpace(sc.Text())
		}
		close(addrc)
		for sc.Scan() {
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(10 * time.Second):
		t.Fatal("dbus-daemon printed no address")
	}
	if addr == "" {
		t.Fatal("dbus-daemon exited without an address")
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect to private bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &Bus{Addr: addr, Conn: conn}
}

// Watcher is a minimal org.kde.StatusNotifierWatcher recording registrations.
type Watcher struct {
	mu    sync.Mutex
	items []string
}

// RegisterStatusNotifierItem is the D-Bus method.
func (w *Watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.HasPrefix(service, "/") {
		service = string(sender) + service
	}
	w.items = append(w.items, service)
	return nil
}

// RegisterStatusNotifierHost is the D-Bus method.
func (w *Watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

// Items returns the registered item ids ("sender/path").
func (w *Watcher) Items() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.items...)
}

// StartWatcher exports a fake StatusNotifierWatcher on the bus from a
// connection of its own (so the tray sees the name appear).
func (b *Bus) StartWatcher(t testing.TB) *Watcher {
	t.Helper()
	conn := b.connect(t)
	w := &Watcher{}
	const iface, path = "org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher"
	if err := conn.Export(w, path, iface); err != nil {
		t.Fatal(err)
	}
	props := map[string]dbus.Variant{
		"RegisteredStatusNotifierItems":  dbus.MakeVariant([]string{}),
		"IsStatusNotifierHostRegistered": dbus.MakeVariant(true),
		"ProtocolVersion":                dbus.MakeVariant(int32(0)),
	}
	if err := conn.Export(propsObj(props), path, "org.freedesktop.DBus.Properties"); err != nil {
		t.Fatal(err)
	}
	requestName(t, conn, iface)
	return w
}

// propsObj serves fixed properties.
type propsObj map[string]dbus.Variant

func (p propsObj) Get(_, name string) (dbus.Variant, *dbus.Error) {
	if v, ok := p[name]; ok {
		return v, nil
	}
	return dbus.Variant{}, dbus.MakeFailedError(fmt.Errorf("no property %s", name))
}

func (p propsObj) GetAll(string) (map[string]dbus.Variant, *dbus.Error) { return p, nil }

func (b *Bus) connect(t testing.TB) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(b.Addr)
	if err != nil {
		t.Fatalf("connect to private bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func requestName(t testing.TB, conn *dbus.Conn, name string) {
	t.Helper()
	r, err := conn.RequestName(name, dbus.NameFlagDoNotQueue)
	if err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("request name %s: %v (reply %v)", name, err, r)
	}
}

// Note is one notification received by Notifications.
type Note struct {
	AppName, Summary, Body string
	ReplacesID             uint32
	Urgency                byte
}

// Notifications is a minimal org.freedesktop.Notifications daemon recording
// what it is asked to show.
type Notifications struct {
	mu    sync.Mutex
	notes []Note
	next  uint32
}

// Notify is the D-Bus method.
func (n *Notifications) Notify(app string, replaces uint32, _ string, summary, body string, _ []string,
	hints map[string]dbus.Variant, _ int32) (uint32, *dbus.Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var urg byte
	if v, ok := hints["urgency"]; ok {
		urg, _ = v.Value().(byte)
	}
	n.notes = append(n.notes, Note{AppName: app, Summary: summary, Body: body, ReplacesID: replaces, Urgency: urg})
	n.next++
	return n.next, nil
}

// GetCapabilities is the D-Bus method.
func (n *Notifications) GetCapabilities() ([]string, *dbus.Error) { return []string{"body"}, nil }

// GetServerInformation is the D-Bus method.
func (n *Notifications) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "traytest", "entitle", "1", "1.2", nil
}

// Notes returns what was shown so far.
func (n *Notifications) Notes() []Note {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Note(nil), n.notes...)
}

// StartNotifications exports a fake notification daemon on the bus.
func (b *Bus) StartNotifications(t testing.TB) *Notifications {
	t.Helper()
	conn := b.connect(t)
	n := &Notifications{}
	if err := conn.Export(n, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	requestName(t, conn, "org.freedesktop.Notifications")
	return n
}
