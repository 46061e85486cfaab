//go:build !linux && !darwin && !windows

package cli

import (
	"context"
	"errors"
)

func openURL(context.Context, string) error { return errors.New("no browser opener on this system") } // i18n:ignore only tested for nil
