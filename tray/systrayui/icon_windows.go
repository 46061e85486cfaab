package systrayui

import (
	"github.com/entitle/entitle/tray/icons"
	"github.com/entitle/entitle/tray/model"
)

// iconBytes: Windows' systray.SetIcon needs an ICO container (all sizes).
func iconBytes(k model.IconKind) ([]byte, error) { return icons.ICO(icons.Kind(k)) }
