//go:build !windows

package config

// readRegistry is the registry layer outside Windows: there is none.
func readRegistry() (map[string]string, error) { return nil, nil }
