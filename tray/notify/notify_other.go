//go:build !linux

package notify

import (
	"context"

	"github.com/entitle/entitle/tray/model"
)

// Notifier reports ErrUnsupported: see the package comment.
type Notifier struct{}

// New returns a Notifier.
func New() *Notifier { return &Notifier{} }

// Notify returns ErrUnsupported.
func (*Notifier) Notify(context.Context, model.Notification) error { return ErrUnsupported }

// Close does nothing.
func (*Notifier) Close() error { return nil }
