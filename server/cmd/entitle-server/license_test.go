package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// runIn runs the CLI in-process against dsn with stdin; it returns stdout
// and stderr together, and the error.
func runIn(t *testing.T, dsn, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRoot(strings.NewReader(stdin), &out, &errb)
	root.SetArgs(append(args, "--db", dsn))
	err := root.Execute()
	return out.String() + errb.String(), err
}

func TestLicenseManagementModeCommands(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		dsn := storetest.DSN(t, d)
		if out, err := runIn(t, dsn, "correct horse battery\n", "account", "create", "--email", "boss@example.com", "--password-stdin"); err != nil {
			t.Fatalf("account create: %v\n%s", err, out)
		}
		out, err := runIn(t, dsn, "", "license", "create", "--owner", "boss@example.com", "--plan", "Team", "--management-mode", "remote", "--json")
		if err != nil {
			t.Fatalf("license create: %v\n%s", err, out)
		}
		var created map[string]any
		if err := json.Unmarshal([]byte(out), &created); err != nil || created["management_mode"] != "remote" || created["owner_email"] != "boss@example.com" {
			t.Fatalf("license create --json = %s (%v)", out, err)
		}
		if out, err := runIn(t, dsn, "", "license", "create", "--owner", "boss@example.com", "--plan", "Solo"); err != nil {
			t.Fatalf("license create without a mode: %v\n%s", err, out)
		}
		out, err = runIn(t, dsn, "", "license", "create", "--owner", "boss@example.com", "--plan", "Team", "--management-mode", "admin-only")
		if err == nil || !strings.Contains(err.Error(), "management mode") {
			t.Fatalf("license create with a bad mode: err %v\n%s", err, out)
		}

		out, err = runIn(t, dsn, "", "license", "list", "--json")
		if err != nil {
			t.Fatalf("license list: %v\n%s", err, out)
		}
		var list []map[string]any
		if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 {
			t.Fatalf("license list --json = %s (%v)", out, err)
		}
		modes := map[any]any{}
		for _, l := range list {
			mode, ok := l["management_mode"]
			if !ok {
				t.Fatalf("license list --json has no management_mode: %s", out)
			}
			modes[l["plan"]] = mode
		}
		if modes["Team"] != "remote" || modes["Solo"] != "" {
			t.Errorf("modes by plan = %v; want Team remote and Solo empty", modes)
		}
		out, err = runIn(t, dsn, "", "license", "list")
		if err != nil || !strings.Contains(out, "MANAGED") || !strings.Contains(out, "Remote only") {
			t.Errorf("license list = %v\n%s", err, out)
		}
	})
}
