package cli

import (
	"context"
	"fmt"
	"os/exec"
)

// openURL opens url in the desktop's browser with xdg-open, when there is one.
func openURL(ctx context.Context, url string) error {
	p, err := exec.LookPath("xdg-open")
	if err != nil {
		return fmt.Errorf("no xdg-open: %w", err) // i18n:ignore only tested for nil
	}
	return startDetached(ctx, exec.Command(p, url))
}
