package notify

import (
	"context"
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"

	"github.com/entitle/entitle/tray/model"
)

const (
	busName   = "org.freedesktop.Notifications"
	objPath   = "/org/freedesktop/Notifications"
	notifyFn  = busName + ".Notify"
	urgNormal = byte(1)
	urgHigh   = byte(2)
)

// Notifier sends notifications over its own session-bus connection, made on
// first use and kept until Close. A notification replaces the previous one of
// the same ID. The connection's lifetime is the Notifier's, never the ctx of
// one Notify: a connection bound to that ctx (dbus.WithContext) is closed by
// godbus as soon as the caller cancels it, which lost every second
// notification.
type Notifier struct {
	mu   sync.Mutex
	conn *dbus.Conn
	ids  map[string]uint32
}

// New returns a Notifier; it connects lazily.
func New() *Notifier { return &Notifier{ids: map[string]uint32{}} }

// Notify shows n.
func (nt *Notifier) Notify(ctx context.Context, n model.Notification) error {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	if nt.conn == nil {
		c, err := dbus.ConnectSessionBus()
		if err != nil {
			return fmt.Errorf("notify: session bus: %w", err)
		}
		nt.conn = c
	}
	urgency := urgNormal
	if n.Urgent {
		urgency = urgHigh
	}
	hints := map[string]dbus.Variant{"urgency": dbus.MakeVariant(urgency)}
	obj := nt.conn.Object(busName, objPath)
	call := obj.CallWithContext(ctx, notifyFn, 0, AppName, nt.ids[n.ID], "", n.Title, n.Body, []string{}, hints, int32(-1))
	if call.Err != nil {
		if !nt.conn.Connected() {
			nt.conn.Close()
			nt.conn = nil
		}
		return fmt.Errorf("notify: %w", call.Err)
	}
	var id uint32
	if err := call.Store(&id); err != nil {
		return fmt.Errorf("notify: reply: %w", err)
	}
	nt.ids[n.ID] = id
	return nil
}

// Close drops the bus connection.
func (nt *Notifier) Close() error {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	if nt.conn == nil {
		return nil
	}
	err := nt.conn.Close()
	nt.conn = nil
	return err
}
