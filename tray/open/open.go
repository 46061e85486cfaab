// Package open opens web pages in the default browser and folders in the file
// manager with the desktop's own command (xdg-open on Linux, explorer and
// rundll32 on Windows, open on macOS; see the per-OS files). Targets are
// validated first: only http(s) URLs and existing absolute folders.
package open

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/entitle/entitle/tray/model"
)

// Opener runs the desktop's open command. The zero value is ready to use.
type Opener struct{}

// OpenURL opens an http(s) URL.
func (Opener) OpenURL(ctx context.Context, u string) error {
	if !model.WebURL(u) {
		return fmt.Errorf("open: refusing URL %q: only http and https", u)
	}
	name, args := urlCommand(u)
	return run(ctx, name, args)
}

// OpenFolder opens an existing folder given by an absolute path.
func (Opener) OpenFolder(ctx context.Context, dir string) error {
	if !filepath.IsAbs(dir) || len(dir) > 4096 {
		return fmt.Errorf("open: folder %q is not an absolute path", dir)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("open: %s is not a folder", dir)
	}
	name, args := folderCommand(filepath.Clean(dir))
	return run(ctx, name, args)
}

func run(ctx context.Context, name string, args []string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ignoreExit(ee) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open: %s: %w: %.200s", name, err, out)
	}
	return nil
}
