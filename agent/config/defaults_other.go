//go:build !linux && !windows && !darwin

package config

import "path/filepath"

// DefaultPath is the configuration file the agent, the CLI and the tray read
// when neither --config nor $ENTITLE_CONFIG names one.
func DefaultPath() string { return "/usr/local/etc/entitle/agent.toml" }

func defaultStateDir() string   { return "/var/db/entitle" }
func defaultProfileDir() string { return "/var/db/entitle/profiles" }

// UserProfileDir returns the per-user profile folder under $HOME.
func UserProfileDir(lookupEnv func(string) (string, bool)) string {
	if v, ok := lookupEnv("HOME"); ok && filepath.IsAbs(v) {
		return filepath.Join(v, ".local", "share", "entitle", "profiles")
	}
	return ""
}
