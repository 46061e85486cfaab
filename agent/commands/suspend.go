package commands

import (
	"context"

	"github.com/entitle/entitle/pkg/protocol"
)

// suspend stops answering entitled until resumed; the activation and its
// seat are kept, so resuming needs no re-activation.
func suspend(_ context.Context, env Env, _ protocol.Command) error {
	env.SetSuspended(true)
	return nil
}
