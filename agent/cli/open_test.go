package cli

import (
	"context"
	"os/exec"
	"runtime"
	"testing"
)

// TestOpenerResult: the opener's exit status decides whether the CLI says
// "(opened in your browser)" (issue 13 item 20).
func TestOpenerResult(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses sh")
	}
	ctx := context.Background()
	if err := startDetached(ctx, exec.Command("sh", "-c", "exit 0")); err != nil {
		t.Fatalf("successful opener: %v", err)
	}
	if err := startDetached(ctx, exec.Command("sh", "-c", "echo no display >&2; exit 3")); err == nil {
		t.Fatal("failed opener reported success")
	}
	if err := startDetached(ctx, exec.Command("/nonexistent/xdg-open")); err == nil {
		t.Fatal("missing opener reported success")
	}
}
