package e2e

import (
	"github.com/entitle/entitle/server/servertest"
	"testing"
)

// The harness is server/servertest, shared with the browser tests; these
// short names keep the tests readable.
type server = servertest.Server

func cleanEnv(extra ...string) []string { return servertest.CleanEnv(extra...) }

func cli(t testing.TB, bin, dsn, stdin string, args ...string) string {
	t.Helper()
	return servertest.CLI(t, bin, dsn, stdin, args...)
}

func cliRun(bin, dsn, stdin string, env []string, args ...string) (string, string, error) {
	return servertest.CLIRun(bin, dsn, stdin, env, args...)
}

func cliJSON(t testing.TB, bin, dsn, stdin string, out any, args ...string) {
	t.Helper()
	servertest.CLIJSON(t, bin, dsn, stdin, out, args...)
}

func startServer(t testing.TB, bin string, args ...string) *server {
	t.Helper()
	return servertest.Start(t, bin, args...)
}

func fingerprint(name string) string { return servertest.Fingerprint(name) }
