// Package testenv gives tests the real components they need (PostgreSQL, built
// binaries, tools) and enforces the project's rule that under CI=true no test
// skips because a component is missing: it fails instead.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// InCI reports whether the tests run in CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Require skips the test when ok is false, or fails it in CI.
func Require(t testing.TB, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if InCI() {
		t.Fatalf("CI=true but %s is missing: .ci/run must provide it", what)
	}
	t.Skipf("%s is missing (install it, or run under .ci/run)", what)
}

// RequireRoot requires root privileges (mount namespaces for simulated computers).
func RequireRoot(t testing.TB) {
	t.Helper()
	Require(t, os.Geteuid() == 0, "root (for mount namespaces)")
}

// LookPath requires a tool on PATH and returns its path.
func LookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	Require(t, err == nil, "the tool "+name)
	return p
}

// PostgresURLEnv names the variable holding the URL of a PostgreSQL server
// that tests may create databases on (make test and .ci/run set it).
const PostgresURLEnv = "ENTITLE_TEST_POSTGRES_URL"

// PostgresDB creates a fresh, empty database for this test on the test
// PostgreSQL server, drops it when the test ends, and returns its URL.
func PostgresDB(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresURLEnv)
	Require(t, base != "", "PostgreSQL ("+PostgresURLEnv+")")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresURLEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}

// RepoRoot returns the repository root (the folder holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testenv: cannot locate source")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// BuildBinary builds the main package at pkg (relative to the repository root,
// e.g. "./server/cmd/entitle-server") into a temporary folder and returns the
// binary's path. Under CI the binary is built with -race, so end-to-end tests
// also catch races inside the real processes.
func BuildBinary(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	args := []string{"build", "-o", out}
	if InCI() || os.Getenv("ENTITLE_E2E_RACE") == "1" {
		args = append(args, "-race")
	}
	args = append(args, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = RepoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

// WaitFor polls cond every 20 ms until it returns true or the timeout passes.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ReadAddrFile waits for a process to write its listen address to path (the
// --addr-file convention of entitle and entitle-server) and returns it.
func ReadAddrFile(t testing.TB, path string, timeout time.Duration) string {
	t.Helper()
	var addr string
	WaitFor(t, timeout, fmt.Sprintf("address file %s", path), func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		addr = strings.TrimSpace(string(b))
		return addr != ""
	})
	return addr
}

// Buffer collects a process's output while the test reads it: a bytes.Buffer
// safe for concurrent writers and readers. The zero value is ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
