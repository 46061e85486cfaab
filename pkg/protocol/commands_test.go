package protocol

import (
	"strings"
	"testing"
)

func TestCommandValidate(t *testing.T) {
	msg := func(s string) map[string]string { return map[string]string{"message": s} }
	tests := []struct {
		name string
		c    Command
		ok   bool
	}{
		{"suspend", Command{ID: "cmd_1", Type: CmdSuspend}, true},
		{"every type without args", Command{ID: "cmd_1", Type: CmdSendInventory}, true},
		{"message", Command{ID: "cmd_1", Type: CmdShowMessage, Args: msg("Bonjour")}, true},
		{"message at the bound", Command{ID: "cmd_1", Type: CmdShowMessage, Args: msg(strings.Repeat("é", MaxMessageChars))}, true},
		{"message over the bound", Command{ID: "cmd_1", Type: CmdShowMessage, Args: msg(strings.Repeat("é", MaxMessageChars+1))}, false},
		{"empty message", Command{ID: "cmd_1", Type: CmdShowMessage, Args: msg("  ")}, false},
		{"message with another arg", Command{ID: "cmd_1", Type: CmdShowMessage, Args: map[string]string{"message": "x", "url": "y"}}, false},
		{"args on a bare type", Command{ID: "cmd_1", Type: CmdDeactivate, Args: map[string]string{"force": "1"}}, false},
		{"unknown type", Command{ID: "cmd_1", Type: "reboot"}, false},
		{"no id", Command{Type: CmdSuspend}, false},
		{"long id", Command{ID: strings.Repeat("x", 65), Type: CmdSuspend}, false},
		{"invalid utf-8", Command{ID: "cmd_1", Type: CmdShowMessage, Args: msg("\xff")}, false},
	}
	for _, tc := range tests {
		if err := tc.c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	for _, typ := range CommandTypes() {
		if !KnownCommand(typ) {
			t.Errorf("%s not known", typ)
		}
	}
}

func TestCommandResultValidate(t *testing.T) {
	tests := []struct {
		r  CommandResult
		ok bool
	}{
		{CommandResult{ID: "c", Status: CommandSucceeded}, true},
		{CommandResult{ID: "c", Status: CommandRefused, Code: CmdErrLocalOnly}, true},
		{CommandResult{ID: "c", Status: CommandPending}, false},
		{CommandResult{Status: CommandFailed}, false},
		{CommandResult{ID: "c", Status: CommandFailed, Args: map[string]string{"detail": strings.Repeat("x", MaxCommandArgBytes+1)}}, false},
	}
	for _, tc := range tests {
		if err := tc.r.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v", tc.r, err)
		}
	}
}
