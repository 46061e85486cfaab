package commands

import (
	"context"

	"github.com/entitle/entitle/pkg/protocol"
)

// refreshLease checks in again at once, for a lease that carries what the
// administrator just changed (plan, seats, term).
func refreshLease(_ context.Context, env Env, _ protocol.Command) error {
	env.CheckinSoon()
	return nil
}
