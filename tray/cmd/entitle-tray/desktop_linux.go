package main

import (
	"fmt"
	"os"

	"github.com/godbus/dbus/v5"
)

// checkDesktop reports a missing D-Bus session bus, which the
// StatusNotifierItem, its menu and the notifications all need.
func checkDesktop() error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
		if addr == "" {
			addr = "not set"
		}
		return fmt.Errorf("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS %s: %v): start the tray inside a desktop session", addr, err)
	}
	return conn.Close()
}
