package commands

import (
	"context"

	"github.com/entitle/entitle/pkg/protocol"
)

// sendInventory sends the profile inventory now: it travels in the check-in
// request, so a check-in is asked for.
func sendInventory(_ context.Context, env Env, _ protocol.Command) error {
	env.CheckinSoon()
	return nil
}
