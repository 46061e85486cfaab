package localapi

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// ResolveLoopback checks that addr ("host:port") names a loopback address and
// returns it with "localhost" replaced by 127.0.0.1 (the resolver is not asked:
// a hosts file could map localhost elsewhere). Any other host is refused.
func ResolveLoopback(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", addr, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("listen address %q: bad port", addr)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" || !ip.IsLoopback() {
		return "", fmt.Errorf("listen address %q: the local API only binds loopback addresses (127.0.0.1, ::1, localhost)", addr)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(n)), nil
}

// Listen opens a TCP listener on a loopback address (see ResolveLoopback).
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	a, err := ResolveLoopback(addr)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", a)
	if err != nil {
		return nil, fmt.Errorf("localapi: listen: %w", err)
	}
	return ln, nil
}
