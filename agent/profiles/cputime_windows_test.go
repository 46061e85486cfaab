//go:build windows

package profiles

import (
	"testing"
	"time"
)

// cpuTime is not measured on Windows; benchmarks report wall time there.
func cpuTime(testing.TB) time.Duration { return 0 }
