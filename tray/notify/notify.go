// Package notify shows desktop notifications. On Linux it calls
// org.freedesktop.Notifications on the session bus (best effort: without a
// notification daemon Notify returns an error the tray only logs). Windows
// and macOS are not supported: fyne.io/systray has no balloon or
// notification-centre API, so there Notify returns ErrUnsupported and the
// tray relies on the icon and the menu.
package notify

import "errors"

// ErrUnsupported is returned where the platform has no implementation.
var ErrUnsupported = errors.New("notify: desktop notifications are not supported on this platform")

// AppName is the application name shown by the notification daemon.
const AppName = "Entitle"
