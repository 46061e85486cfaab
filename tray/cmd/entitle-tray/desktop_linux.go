package main

import (
	"errors"
	"os"

	"github.com/godbus/dbus/v5"

	"github.com/entitle/entitle/pkg/i18n"
)

// checkDesktop reports a missing D-Bus session bus, which the
// StatusNotifierItem, its menu and the notifications all need.
func checkDesktop(loc *i18n.Localizer) error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
		if addr == "" {
			addr = loc.T("tray_cmd_not_set", nil)
		}
		return errors.New(loc.T("tray_cmd_no_dbus", i18n.Args{"address": addr, "error": err}))
	}
	return conn.Close()
}
