package commands

import (
	"context"

	"github.com/entitle/entitle/pkg/protocol"
)

// resume undoes suspend and checks in for a fresh lease.
func resume(_ context.Context, env Env, _ protocol.Command) error {
	env.SetSuspended(false)
	env.CheckinSoon()
	return nil
}
