package commands

import (
	"context"

	"github.com/entitle/entitle/pkg/protocol"
)

// deactivate releases the seat on the server and forgets the activation, as
// the person's own `entitle deactivate` does, but allowed in remote-only mode
// (the administrator is the one who may).
func deactivate(ctx context.Context, env Env, _ protocol.Command) error {
	return env.Deactivate(ctx)
}
