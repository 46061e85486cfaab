package config

// On Windows the agent runs as a service (LocalSystem): state and profiles live
// under %ProgramData%\Entitle, which is readable by users and writable by
// administrators.

import (
	"os"
	"path/filepath"
)

func programData() string {
	if v := os.Getenv("ProgramData"); v != "" {
		return filepath.Join(v, "Entitle")
	}
	return `C:\ProgramData\Entitle`
}

// DefaultPath is the configuration file the agent, the CLI and the tray read
// when neither --config nor $ENTITLE_CONFIG names one.
func DefaultPath() string { return filepath.Join(programData(), "agent.toml") }

func defaultStateDir() string   { return programData() }
func defaultProfileDir() string { return filepath.Join(programData(), "profiles") }

// UserProfileDir returns the per-user profile folder under %APPDATA%.
func UserProfileDir(lookupEnv func(string) (string, bool)) string {
	if v, ok := lookupEnv("APPDATA"); ok && v != "" {
		return filepath.Join(v, "Entitle", "profiles")
	}
	return ""
}
