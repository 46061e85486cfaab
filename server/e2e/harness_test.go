package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
)

// cleanEnv drops ENTITLE_SERVER_* settings of the developer's shell so the
// processes under test see only what the test gives them.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ENTITLE_SERVER_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// cli runs an admin command of the binary against dsn and returns stdout,
// failing the test if it fails.
func cli(t testing.TB, bin, dsn, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := cliRun(bin, dsn, stdin, nil, args...)
	if err != nil {
		t.Fatalf("entitle-server %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

func cliRun(bin, dsn, stdin string, env []string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if dsn != "" {
		args = append(args, "--db", dsn)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = cleanEnv(env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// cliJSON runs a command with --json and decodes its output.
func cliJSON(t testing.TB, bin, dsn, stdin string, out any, args ...string) {
	t.Helper()
	raw := cli(t, bin, dsn, stdin, append(args, "--json")...)
	if err := json.Unmarshal([]byte(raw), out); err != nil {
		t.Fatalf("entitle-server %s --json: %v\n%s", strings.Join(args, " "), err, raw)
	}
}

// server is one running entitle-server process.
type server struct {
	cmd    *exec.Cmd
	base   string
	stderr *testenv.Buffer
	done   chan struct{}
	err    error // valid once done is closed
}

// startServer runs `entitle-server serve` on a free loopback port and waits
// until it has written its address.
func startServer(t testing.TB, bin string, args ...string) *server {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addr")
	args = append([]string{"serve", "--listen", "127.0.0.1:0", "--addr-file", addrFile, "--log-format", "json"}, args...)
	s := &server{cmd: exec.Command(bin, args...), stderr: &testenv.Buffer{}, done: make(chan struct{})}
	s.cmd.Env = cleanEnv()
	s.cmd.Stdout, s.cmd.Stderr = s.stderr, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("server stop: %v\n%s", err, s.stderr.String())
		}
	})
	var addr string
	testenv.WaitFor(t, 90*time.Second, "entitle-server to listen", func() bool {
		select {
		case <-s.done:
			t.Fatalf("entitle-server exited early: %v\n%s", s.err, s.stderr.String())
		default:
		}
		b, err := os.ReadFile(addrFile)
		addr = strings.TrimSpace(string(b))
		return err == nil && addr != ""
	})
	s.base = "http://" + addr
	return s
}

// stop sends SIGTERM and expects a clean exit (status 0) within the deadline.
func (s *server) stop() error {
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

// call sends a JSON request and decodes the JSON answer into out.
func (s *server) call(t testing.TB, c *http.Client, method, path, bearer string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		if raw, ok := body.(string); ok {
			rd = strings.NewReader(raw)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

func fingerprint(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}
