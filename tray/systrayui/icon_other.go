//go:build !windows

package systrayui

import (
	"github.com/entitle/entitle/tray/icons"
	"github.com/entitle/entitle/tray/model"
)

// iconSize is the PNG handed to systray: the StatusNotifierItem pixmap on
// Linux (hosts scale it to the panel) and the menu-bar image on macOS.
const iconSize = 32

func iconBytes(k model.IconKind) ([]byte, error) { return icons.PNG(icons.Kind(k), iconSize) }
