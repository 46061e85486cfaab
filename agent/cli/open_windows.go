package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
)

func defaultConfigPath() string {
	pd := os.Getenv("ProgramData")
	if pd == "" {
		pd = `C:\ProgramData`
	}
	return filepath.Join(pd, "Entitle", "agent.toml")
}

// openURL opens url in the default browser.
func openURL(ctx context.Context, url string) error {
	return startDetached(ctx, exec.Command("rundll32", "url.dll,FileProtocolHandler", url))
}
