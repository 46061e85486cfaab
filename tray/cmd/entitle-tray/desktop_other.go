//go:build !linux

package main

// checkDesktop: Windows and macOS tray APIs need no session bus.
func checkDesktop() error { return nil }
