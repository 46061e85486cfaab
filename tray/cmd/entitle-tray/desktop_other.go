//go:build !linux

package main

import "github.com/entitle/entitle/pkg/i18n"

// checkDesktop: Windows and macOS tray APIs need no session bus.
func checkDesktop(*i18n.Localizer) error { return nil }
