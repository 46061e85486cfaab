package svc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// kardianos/service drives SysV init through `service NAME status`, whose
// script exits 1 for "Stopped" as well as when it is missing, and its Uninstall
// removes the script but not the rc?.d links. These helpers fill both gaps.

const sysvPlatform = "unix-systemv"

// sysvStatus interprets a failed status query on SysV: no script means not
// installed; a script whose status command failed means stopped.
func sysvStatus(platform, name string) (string, bool) {
	if platform != sysvPlatform {
		return "", false
	}
	if _, err := os.Stat(filepath.Join("/etc/init.d", name)); errors.Is(err, fs.ErrNotExist) {
		return "not installed", true
	}
	return "stopped", true
}

// afterUninstall removes the rc?.d start/stop links left behind for name.
func afterUninstall(platform, name string) error {
	if platform != sysvPlatform {
		return nil
	}
	links, err := filepath.Glob("/etc/rc[0-6S].d/[SK][0-9][0-9]" + name)
	if err != nil {
		return fmt.Errorf("find rc links: %w", err)
	}
	for _, l := range links {
		if err := os.Remove(l); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", l, err)
		}
	}
	return nil
}
