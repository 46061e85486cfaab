// Package servertest runs the real entitle-server binary for end-to-end
// tests: its admin commands, and `serve` as a process on a free loopback port,
// with a JSON client for its API. The e2e and browser test packages share it.
package servertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
)

// CleanEnv is the environment of the processes under test: the test's own,
// less the ENTITLE_SERVER_* settings of the developer's shell, plus extra.
func CleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ENTITLE_SERVER_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// CLIRun runs an admin command of the binary (with --db dsn when dsn is set)
// and returns its stdout and stderr.
func CLIRun(bin, dsn, stdin string, env []string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if dsn != "" {
		args = append(args, "--db", dsn)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = CleanEnv(env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// CLI runs an admin command and returns stdout, failing the test if it fails.
func CLI(t testing.TB, bin, dsn, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := CLIRun(bin, dsn, stdin, nil, args...)
	if err != nil {
		t.Fatalf("entitle-server %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// CLIJSON runs an admin command with --json and decodes its output into out.
func CLIJSON(t testing.TB, bin, dsn, stdin string, out any, args ...string) {
	t.Helper()
	raw := CLI(t, bin, dsn, stdin, append(args, "--json")...)
	if err := json.Unmarshal([]byte(raw), out); err != nil {
		t.Fatalf("entitle-server %s --json: %v\n%s", strings.Join(args, " "), err, raw)
	}
}

// Server is one running `entitle-server serve` process.
type Server struct {
	Base   string          // http://host:port
	Stderr *testenv.Buffer // everything it logged
	cmd    *exec.Cmd
	done   chan struct{}
	err    error // valid once done is closed
}

// Start runs `entitle-server serve` with args on a free loopback port, waits
// until it has written its address, and stops it (expecting a clean exit)
// when the test ends.
func Start(t testing.TB, bin string, args ...string) *Server {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addr")
	args = append([]string{"serve", "--listen", "127.0.0.1:0", "--addr-file", addrFile, "--log-format", "json"}, args...)
	s := &Server{cmd: exec.Command(bin, args...), Stderr: &testenv.Buffer{}, done: make(chan struct{})}
	s.cmd.Env = CleanEnv()
	s.cmd.Stdout, s.cmd.Stderr = s.Stderr, s.Stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("server stop: %v\n%s", err, s.Stderr.String())
		}
	})
	var addr string
	testenv.WaitFor(t, 90*time.Second, "entitle-server to listen", func() bool {
		select {
		case <-s.done:
			t.Fatalf("entitle-server exited early: %v\n%s", s.err, s.Stderr.String())
		default:
		}
		b, err := os.ReadFile(addrFile)
		addr = strings.TrimSpace(string(b))
		return err == nil && addr != ""
	})
	s.Base = "http://" + addr
	return s
}

// Stop sends SIGTERM and returns the exit error (nil for a clean exit within
// 30 s). Calling it again returns the same result.
func (s *Server) Stop() error {
	select {
	case <-s.done:
		return s.err
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-s.done:
		return s.err
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("did not exit within 30s of SIGTERM")
	}
}

// Call sends a request to the server with client c; see CallURL.
func (s *Server) Call(t testing.TB, c *http.Client, method, path, bearer string, body, out any) int {
	t.Helper()
	return CallURL(t, c, method, s.Base+path, bearer, body, out)
}

// CallURL sends a request with client c (a string body is sent as is,
// url.Values as a form, anything else as JSON, with an optional bearer token), decodes a JSON
// answer into out when given, and returns the HTTP status. It serves every
// server test harness, in-process (httptest) or against the binary.
func CallURL(t testing.TB, c *http.Client, method, target, bearer string, body, out any) int {
	t.Helper()
	var rd io.Reader
	contentType := "application/json"
	if body != nil {
		if raw, ok := body.(string); ok {
			rd = strings.NewReader(raw)
		} else if form, ok := body.(url.Values); ok {
			rd, contentType = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, target, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// Keys fetches the server's published key set (GET /v1/keys).
func (s *Server) Keys(t testing.TB, c *http.Client) *lease.KeySet {
	t.Helper()
	var raw json.RawMessage
	if st := s.Call(t, c, http.MethodGet, protocol.PathKeys, "", nil, &raw); st != http.StatusOK {
		t.Fatalf("GET %s: status %d", protocol.PathKeys, st)
	}
	ks, err := lease.ParseKeySet(raw)
	if err != nil {
		t.Fatalf("GET %s: %v", protocol.PathKeys, err)
	}
	return ks
}

// Database names a database the server test suites run on, and makes a
// fresh one for a test.
type Database struct {
	Name string
	DSN  func(t *testing.T) string
}

// Databases are the two the server supports: a SQLite file in the test's
// temporary folder, and a fresh PostgreSQL database (testenv.PostgresDB).
func Databases() []Database {
	return []Database{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "server.db") }},
		{"postgres", func(t *testing.T) string { return testenv.PostgresDB(t) }},
	}
}

// Fingerprint derives a valid, distinct machine fingerprint from a name.
func Fingerprint(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

// PID is the server process's id (to read its memory, for benchmarks).
func (s *Server) PID() int { return s.cmd.Process.Pid }
