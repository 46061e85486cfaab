package config

// On macOS the agent runs as a launchd daemon: state and profiles live under
// /Library/Application Support/Entitle.

import "path/filepath"

const macBase = "/Library/Application Support/Entitle"

// DefaultPath is the configuration file the agent, the CLI and the tray read
// when neither --config nor $ENTITLE_CONFIG names one.
func DefaultPath() string { return filepath.Join(macBase, "agent.toml") }

func defaultStateDir() string   { return macBase }
func defaultProfileDir() string { return filepath.Join(macBase, "profiles") }

// UserProfileDir returns the per-user profile folder,
// ~/Library/Application Support/Entitle/profiles.
func UserProfileDir(lookupEnv func(string) (string, bool)) string {
	if v, ok := lookupEnv("HOME"); ok && filepath.IsAbs(v) {
		return filepath.Join(v, "Library", "Application Support", "Entitle", "profiles")
	}
	return ""
}
