//go:build !windows

package svc

// exitedEarly: on Unix the RunWait hook sees the body end and returns, so
// Run returns the body's error to its caller; nothing else to do.
func exitedEarly(error) {}
