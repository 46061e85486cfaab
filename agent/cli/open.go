package cli

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"
)

// openerWait is how long the browser opener (xdg-open, open, rundll32) may
// take to report: they hand the URL to the desktop and exit.
const openerWait = 5 * time.Second

// errOpenerPending is an opener still running after openerWait: it may yet
// succeed, but nothing says it did.
var errOpenerPending = errors.New("the browser opener has not finished") // i18n:ignore only tested for nil

// startDetached runs a browser opener and returns nil only when it exited
// successfully within openerWait; a failure (no browser, no desktop) is an
// error, so the caller never claims a page was opened when it was not. An
// opener still running is left to finish in the background (its goroutine
// reaps it, or kills it when ctx ends).
func startDetached(ctx context.Context, cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("open browser: %w", err) // i18n:ignore only tested for nil
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(openerWait)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("open browser: %w", err) // i18n:ignore only tested for nil
		}
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	go func() {
		select {
		case <-done:
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	return errOpenerPending
}
