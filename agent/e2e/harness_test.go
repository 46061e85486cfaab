package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/testenv"
)

// world holds the real binaries and one licensing server's database.
type world struct {
	t         *testing.T
	serverBin string
	agentBin  string
	dir       string
	db        string
	pubKey    string
	email     string
	password  string
	key       string
	server    *proc
	serverURL string
	listen    string   // the server's fixed address, reused on restart
	serveArgs []string // extra `serve` flags (a test DNS server, an SMTP relay)
}

// proc is a running child process whose output goes to the test log.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

type logWriter struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Logf("%s%s", w.prefix, line)
	}
	return len(p), nil
}

func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = cleanEnv()
	lw := &logWriter{t: t, prefix: name + ": "}
	cmd.Stdout, cmd.Stderr = lw, lw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.done
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.kill()
		t.Fatal("process did not stop on SIGTERM")
	}
}

// cleanEnv drops ENTITLE_* and the locale variables so a developer's
// settings cannot leak in (commands speak English unless a test asks).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ENTITLE_") && !strings.HasPrefix(kv, "GORACE=") &&
			!strings.HasPrefix(kv, "LANG=") && !strings.HasPrefix(kv, "LC_ALL=") && !strings.HasPrefix(kv, "LC_MESSAGES=") {
			env = append(env, kv)
		}
	}
	// Race-built binaries sleep a second at exit by default; reports still
	// fail the command (exit code 66).
	return append(env, "GORACE=atexit_sleep_ms=0")
}

// execute runs argv with stdin in the test environment and returns its
// output and the error of exec.Cmd.Run (*exec.ExitError for a non-zero exit).
func execute(timeout time.Duration, stdin string, argv ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// run runs a command and returns its stdout, or an error wrapping the exit
// error with the command's output.
func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	out, errb, err := execute(30*time.Second, stdin, args...)
	if err != nil {
		err = fmt.Errorf("%s: %w: %s%s", strings.Join(args[1:], " "), err, out, errb)
	}
	return out, err
}

func newWorld(t *testing.T) *world { return newWorldOn(t, "") }

// newWorldOn is newWorld on the database dsn ("" for a fresh SQLite file).
func newWorldOn(t *testing.T, dsn string) *world { return newWorldWith(t, dsn) }

// newWorldWith is newWorldOn with extra `serve` flags.
func newWorldWith(t *testing.T, dsn string, serveArgs ...string) *world {
	w := &world{t: t, dir: t.TempDir(), serveArgs: serveArgs}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.serverBin = testenv.BuildBinary(t, "./server/cmd/entitle-server") }()
	w.agentBin = testenv.BuildBinary(t, "./agent/cmd/entitle")
	wg.Wait()
	if w.serverBin == "" {
		t.FailNow()
	}
	w.db = dsn
	if w.db == "" {
		w.db = "sqlite:" + filepath.Join(w.dir, "server.db")
	}
	out, err := run(t, "", w.serverBin, "demo", "--json", "--db", w.db)
	if err != nil {
		t.Fatal(err)
	}
	var demo struct {
		Email, Password string
		LicenseKey      string `json:"license_key"`
	}
	if err := json.Unmarshal([]byte(out), &demo); err != nil || demo.LicenseKey == "" {
		t.Fatalf("demo output %q: %v", out, err)
	}
	w.email, w.password, w.key = demo.Email, demo.Password, demo.LicenseKey
	out, err = run(t, "", w.serverBin, "keys", "show", "--json", "--db", w.db)
	if err != nil {
		t.Fatal(err)
	}
	var keys struct {
		Keys []struct {
			PublicKey string `json:"public_key"`
		}
	}
	if err := json.Unmarshal([]byte(out), &keys); err != nil || len(keys.Keys) == 0 {
		t.Fatalf("keys output %q: %v", out, err)
	}
	w.pubKey = keys.Keys[0].PublicKey
	w.startServer("127.0.0.1:0")
	return w
}

// Leases last 5 s and agents are asked to check in every second, so expiry
// and renewal happen within the test's time budget.
func (w *world) startServer(listen string) {
	addrFile := filepath.Join(w.dir, "server.addr")
	os.Remove(addrFile)
	args := []string{w.serverBin, "serve", "--listen", listen, "--addr-file", addrFile, "--db", w.db,
		"--offline-grace", "5s", "--checkin-interval", "1s", "--limit-activations", "off"}
	w.server = start(w.t, "server", append(args, w.serveArgs...)...)
	w.listen = testenv.ReadAddrFile(w.t, addrFile, 20*time.Second)
	w.serverURL = "http://" + w.listen
}

func (w *world) seatsUsed() int {
	out, err := run(w.t, "", w.serverBin, "license", "list", "--json", "--db", w.db)
	if err != nil {
		w.t.Fatal(err)
	}
	var lics []struct {
		SeatsUsed int `json:"seats_used"`
	}
	if err := json.Unmarshal([]byte(out), &lics); err != nil || len(lics) == 0 {
		w.t.Fatalf("license list %q: %v", out, err)
	}
	return lics[0].SeatsUsed
}

// agent is one running `entitle service run`.
type agent struct {
	w        *world
	stateDir string
	addr     string
	p        *proc
}

func (w *world) agentFlags(stateDir string) []string {
	return []string{"--state-dir", stateDir, "--profile-dir", filepath.Join(stateDir, "profiles"),
		"--server-url", w.serverURL, "--pinned-key", w.pubKey}
}

// startAgent runs an agent on stateDir; wrap, when set, prefixes the command
// (unshare for a second computer).
func (w *world) startAgent(stateDir string, wrap ...string) *agent {
	w.t.Helper()
	addrFile := filepath.Join(w.t.TempDir(), "agent.addr")
	args := append(append([]string{}, wrap...), w.agentBin, "service", "run", "--listen", "127.0.0.1:0", "--addr-file", addrFile)
	args = append(args, w.agentFlags(stateDir)...)
	a := &agent{w: w, stateDir: stateDir}
	a.p = start(w.t, "agent", args...)
	a.addr = testenv.ReadAddrFile(w.t, addrFile, 20*time.Second)
	return a
}

// cli runs an entitle command against this agent.
func (a *agent) cli(stdin string, args ...string) (string, error) {
	a.w.t.Helper()
	full := append([]string{a.w.agentBin}, args...)
	full = append(full, "--listen", a.addr)
	full = append(full, a.w.agentFlags(a.stateDir)...)
	return run(a.w.t, stdin, full...)
}

func (a *agent) status() agentapi.Status {
	a.w.t.Helper()
	out, err := a.cli("", "status", "--json")
	var st agentapi.Status
	if jerr := json.Unmarshal([]byte(out), &st); jerr != nil {
		a.w.t.Fatalf("status: %v %v: %q", err, jerr, out)
	}
	return st
}

func (a *agent) waitState(timeout time.Duration, want ...agentapi.State) agentapi.Status {
	a.w.t.Helper()
	var st agentapi.Status
	testenv.WaitFor(a.w.t, timeout, fmt.Sprintf("agent state %v", want), func() bool {
		st = a.status()
		for _, s := range want {
			if st.Entitlement.State == s {
				return true
			}
		}
		return false
	})
	return st
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// approveInBrowser plays the person: open the verification page, sign in,
// approve the code, as a browser would (cookies, CSRF tokens, forms).
func (w *world) approveInBrowser(userCode string) {
	w.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(u string) string {
		resp, err := c.Get(u)
		if err != nil {
			w.t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		if resp.StatusCode != http.StatusOK {
			w.t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b.String())
		}
		return b.String()
	}
	post := func(path string, form url.Values) string {
		resp, err := c.PostForm(w.serverURL+path, form)
		if err != nil {
			w.t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		if resp.StatusCode != http.StatusOK {
			w.t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b.String())
		}
		return b.String()
	}
	csrf := func(page string) string {
		m := csrfRE.FindStringSubmatch(page)
		if m == nil {
			w.t.Fatalf("no csrf field in page: %s", page)
		}
		return m[1]
	}
	page := get(w.serverURL + "/device?user_code=" + url.QueryEscape(userCode))
	page = post("/login", url.Values{"csrf": {csrf(page)}, "email": {w.email}, "password": {w.password},
		"flow": {"device"}, "user_code": {userCode}})
	post("/device/approve", url.Values{"csrf": {csrf(page)}, "user_code": {userCode}})
}
