package main

import (
	"encoding/json"
	"testing"
)

// mustRun runs entitle-server on dsn and fails the test when it fails.
func mustRun(t *testing.T, dsn string, args ...string) string {
	t.Helper()
	out, err := runIn(t, dsn, "", args...)
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return out
}

// decodeJSON reads a --json output into v, failing the test when it is not JSON.
func decodeJSON(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
}
