//go:build !linux

package svc

// notInstalled: kardianos reports service.ErrNotInstalled itself here.
func notInstalled(platform, name string) bool { return false }
