//go:build !windows && !linux

package systrayui

import (
	"github.com/entitle/entitle/tray/icons"
	"github.com/entitle/entitle/tray/model"
)

// iconSize is the PNG handed to systray: the menu-bar image on macOS.
const iconSize = 32

func iconBytes(k model.IconKind) ([]byte, error) { return icons.PNG(icons.Kind(k), iconSize) }
