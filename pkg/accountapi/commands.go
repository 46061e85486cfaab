package accountapi

import (
	"time"

	"github.com/entitle/entitle/pkg/protocol"
)

// PathAccountDeviceCommands is POST (queue) and GET (list) of one of the
// account's devices' remote commands.
const PathAccountDeviceCommands = PathAccountDevice + "/commands"

// Bounds of a command's time to live, in seconds.
const (
	MinCommandTTL = 60
	MaxCommandTTL = 30 * 24 * 3600
)

// CommandRequest queues a remote command for a device.
type CommandRequest struct {
	Type       string            `json:"type"`
	Args       map[string]string `json:"args,omitempty"`
	TTLSeconds int               `json:"ttl_seconds,omitempty"` // 0: one day
}

// Validate checks the type and its arguments (protocol.Command.Validate,
// the check the agent applies too) and the time to live.
func (r CommandRequest) Validate() error {
	if err := (protocol.Command{ID: "new", Type: r.Type, Args: r.Args}).Validate(); err != nil {
		return invalid(err.Error())
	}
	if r.TTLSeconds != 0 && (r.TTLSeconds < MinCommandTTL || r.TTLSeconds > MaxCommandTTL) {
		return invalid("ttl_seconds must be between 60 and 2592000")
	}
	return nil
}

// CommandJSON is a remote command as the API shows it, with its lifecycle
// (protocol.Command* statuses) and the agent's outcome code.
type CommandJSON struct {
	ID          string            `json:"id"`
	DeviceID    string            `json:"device_id"`
	Type        string            `json:"type"`
	Args        map[string]string `json:"args,omitempty"`
	Status      string            `json:"status"`
	CreatedBy   string            `json:"created_by"`
	CreatedAt   time.Time         `json:"created_at"`
	ExpiresAt   time.Time         `json:"expires_at"`
	DeliveredAt *time.Time        `json:"delivered_at,omitempty"`
	CompletedAt *time.Time        `json:"completed_at,omitempty"`
	ResultCode  string            `json:"result_code,omitempty"`
	ResultArgs  map[string]string `json:"result_args,omitempty"`
}
