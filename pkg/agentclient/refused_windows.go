package agentclient

import (
	"errors"
	"syscall"
)

// wsaeconnrefused is Winsock's "connection refused" (WSAECONNREFUSED).
const wsaeconnrefused = syscall.Errno(10061)

func isRefusedOS(err error) bool { return errors.Is(err, wsaeconnrefused) }
