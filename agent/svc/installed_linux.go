package svc

import (
	"errors"
	"io/fs"
	"os"
)

// notInstalled recognizes a missing SysV script, which kardianos reports only
// as a failing `service NAME status`.
func notInstalled(platform, name string) bool {
	if platform != "unix-systemv" {
		return false
	}
	_, err := os.Stat("/etc/init.d/" + name)
	return errors.Is(err, fs.ErrNotExist)
}
