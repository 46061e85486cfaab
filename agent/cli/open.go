package cli

import (
	"context"
	"fmt"
	"os/exec"
)

// startDetached starts a browser opener and reaps it in the background; the
// opener exits quickly (it hands the URL to the desktop). The goroutine ends
// when the process does, or kills it when ctx ends.
func startDetached(ctx context.Context, cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("open browser: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = cmd.Wait()
	}()
	go func() {
		select {
		case <-done:
		case <-ctx.Done():
			_ = cmd.Process.Kill()
		}
	}()
	return nil
}
