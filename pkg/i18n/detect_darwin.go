//go:build darwin

package i18n

import (
	"context"
	"os/exec"
	"time"
)

// systemLanguages returns the person's preferred languages on macOS
// (System Settings › General › Language & Region), for programs started
// without the POSIX variables, such as the tray launched at login:
// `defaults read -g AppleLanguages` prints them as ("fr-FR", "en-FR").
func systemLanguages() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/defaults", "read", "-g", "AppleLanguages").Output()
	if err != nil {
		return nil
	}
	return parseAppleLanguages(string(out))
}
