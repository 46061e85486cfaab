package cli

import (
	"context"
	"os/exec"
)

// openURL opens url in the default browser.
func openURL(ctx context.Context, url string) error {
	return startDetached(ctx, exec.Command("rundll32", "url.dll,FileProtocolHandler", url))
}
