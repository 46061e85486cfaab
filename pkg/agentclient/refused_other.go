//go:build !windows

package agentclient

func isRefusedOS(error) bool { return false }
