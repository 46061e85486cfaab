package config

// On Linux the agent runs as a system service (root), so its defaults are
// system folders: state in /var/lib/entitle and signature profiles in
// /var/lib/entitle/profiles. A person running the agent as themselves (for
// example `entitle service run` in a terminal) points --state-dir and
// --profile-dir at their own folders; UserProfileDir gives the conventional
// per-user profile folder, $XDG_DATA_HOME/entitle/profiles or
// $HOME/.local/share/entitle/profiles.

import (
	"os"
	"path/filepath"
)

// DefaultPath is the configuration file the agent, the CLI and the tray read
// when neither --config nor $ENTITLE_CONFIG names one.
func DefaultPath() string { return "/etc/entitle/agent.toml" }

func defaultStateDir() string   { return "/var/lib/entitle" }
func defaultProfileDir() string { return "/var/lib/entitle/profiles" }

// UserProfileDir returns the per-user profile folder, or "" when the home
// folder is unknown.
func UserProfileDir(lookupEnv func(string) (string, bool)) string {
	if v, ok := lookupEnv("XDG_DATA_HOME"); ok && filepath.IsAbs(v) {
		return filepath.Join(v, "entitle", "profiles")
	}
	if v, ok := lookupEnv("HOME"); ok && filepath.IsAbs(v) {
		return filepath.Join(v, ".local", "share", "entitle", "profiles")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "entitle", "profiles")
	}
	return ""
}
