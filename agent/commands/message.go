package commands

import (
	"context"
	"strings"

	"github.com/entitle/entitle/pkg/protocol"
)

// showMessage shows the administrator's text to the person at the computer
// (the tray turns the event into a notification). The text is the
// administrator's own words, shown as written; Validate bounded it.
func showMessage(_ context.Context, env Env, c protocol.Command) error {
	env.ShowMessage(strings.TrimSpace(c.Args["message"]))
	return nil
}
