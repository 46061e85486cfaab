package notify

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/tray/model"
	"github.com/entitle/entitle/tray/traytest"
)

// TestEveryNotificationArrives sends notifications the way tray/app does
// (each with its own context, cancelled when Notify returns) to a real
// notification daemon on a private session bus, and counts what it received.
// A connection bound to the first call's context was closed by its cancel, so
// every second notification was lost.
func TestEveryNotificationArrives(t *testing.T) {
	bus := traytest.StartBus(t)
	daemon := bus.StartNotifications(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.Addr)
	nt := New()
	defer nt.Close()

	const n = 4
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := nt.Notify(ctx, model.Notification{ID: fmt.Sprintf("kind-%d", i), Title: fmt.Sprintf("note %d", i), Body: "body"})
		cancel()
		if err != nil {
			t.Errorf("notification %d: %v", i, err)
		}
		// godbus closes a context-bound connection from its own goroutine
		// once the context is done: give it the time a real tray has
		// between two notifications.
		time.Sleep(200 * time.Millisecond)
	}
	testenv.WaitFor(t, 5*time.Second, fmt.Sprintf("%d notifications", n), func() bool { return len(daemon.Notes()) >= n })
	for i, note := range daemon.Notes() {
		if want := fmt.Sprintf("note %d", i); note.Summary != want || note.AppName != AppName {
			t.Errorf("notification %d: %+v, want summary %q", i, note, want)
		}
	}
}
