//go:build !linux

package svc

func sysvStatus(platform, name string) (string, bool) { return "", false }

func afterUninstall(platform, name string) error { return nil }
