// Package systrayui renders a tray/model.Menu with fyne.io/systray. Each
// Render replaces the whole menu (ResetMenu, then one item per line), which
// avoids stale per-item updates; every enabled item gets a goroutine waiting
// on its ClickedCh (systray drops a click nobody waits for), which ends when
// the next Render's ResetMenu closes that channel.
//
// systray must be started with systray.Run on the main goroutine, once per
// process; on macOS that needs cgo (CGO_ENABLED=1), on Linux and Windows the
// tray builds with CGO_ENABLED=0.
package systrayui

import (
	"log/slog"
	"sync"

	"fyne.io/systray"

	"github.com/entitle/entitle/tray/model"
)

// UI renders menus; OnClick receives the action of a clicked item.
type UI struct {
	log     *slog.Logger
	onClick func(model.Action)
	wg      sync.WaitGroup
	mu      sync.Mutex // serializes Render, Resync and Close
	icon    model.IconKind
	tooltip string
}

// New returns a UI. Call Render only after systray's onReady ran.
func New(log *slog.Logger, onClick func(model.Action)) *UI {
	return &UI{log: log, onClick: onClick}
}

// Render replaces the tray's icon, tooltip and menu.
func (u *UI) Render(m model.Menu) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if m.Icon != u.icon {
		b, err := iconBytes(m.Icon)
		if err != nil {
			u.log.Error("tray icon", "err", err)
		} else {
			systray.SetIcon(b)
			u.icon = m.Icon
		}
	}
	systray.SetTooltip(m.Tooltip)
	u.tooltip = m.Tooltip
	systray.ResetMenu()
	u.wg.Wait() // every click goroutine of the old menu has ended
	for _, it := range m.Items {
		if it.Separator {
			systray.AddSeparator()
			continue
		}
		u.add(systray.AddMenuItem(it.Label, ""), it)
	}
}

// add sets up mi for it: disabled, a submenu of its children, or a click
// goroutine for its action.
func (u *UI) add(mi *systray.MenuItem, it model.Item) {
	if !it.Enabled {
		mi.Disable()
		return
	}
	for _, c := range it.Children {
		if c.Separator {
			mi.AddSeparator()
			continue
		}
		u.add(mi.AddSubMenuItem(c.Label, ""), c)
	}
	if it.Action == model.ActionNone {
		return
	}
	act := it.Action
	ch := mi.ClickedCh
	u.wg.Go(func() {
		for {
			if _, ok := <-ch; !ok {
				return
			}
			u.onClick(act)
		}
	})
}

// Resync sets the last icon and tooltip again. On Linux, systray drops a
// SetIcon or SetTooltip made while it is still exporting its item on the bus
// (just after systray.Run starts); the tray calls Resync shortly after start.
func (u *UI) Resync() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.icon == "" {
		return
	}
	if b, err := iconBytes(u.icon); err == nil {
		systray.SetIcon(b)
	}
	systray.SetTooltip(u.tooltip)
}

// Close removes the menu and waits for the click goroutines.
func (u *UI) Close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	systray.ResetMenu()
	u.wg.Wait()
}
