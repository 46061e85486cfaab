//go:build !windows

package state

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
)

// setTokenGroup enforces mode 0640 and, when group is set, makes it the
// file's group, so that its members (and root) can read the token and nobody
// else can.
func setTokenGroup(path, group string) error {
	if err := os.Chmod(path, TokenMode); err != nil {
		return err
	}
	if group == "" {
		return nil
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return fmt.Errorf("group %q: %w", group, err)
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return fmt.Errorf("group %q: gid %q: %w", group, g.Gid, err)
	}
	return os.Chown(path, -1, gid)
}
