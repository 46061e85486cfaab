//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/agentclient"
	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/tray/traytest"
)

// proc is a process started by a test, stopped with SIGINT at cleanup.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *testenv.Buffer
	done chan struct{}
}

func startProc(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), out: &testenv.Buffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }() // ends with the process
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out.String())
		}
	})
	return p
}

func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func run(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, stderr)
	}
	return out
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// world is a real licensing server and agent on loopback.
type world struct {
	t                          *testing.T
	serverBin, agentBin        string
	db, dir, stateDir, agentAt string
	serverAt, pinned, key      string
	server, agent              *proc
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, dir: t.TempDir()}
	w.serverBin = testenv.BuildBinary(t, "./server/cmd/entitle-server")
	w.agentBin = testenv.BuildBinary(t, "./agent/cmd/entitle")
	w.db = "sqlite:" + filepath.Join(w.dir, "server.db")
	w.stateDir = filepath.Join(w.dir, "state")

	var demo struct {
		LicenseKey string `json:"license_key"`
	}
	if err := json.Unmarshal(run(t, w.serverBin, "--db", w.db, "--json", "demo"), &demo); err != nil || demo.LicenseKey == "" {
		t.Fatalf("demo --json: %v", err)
	}
	w.key = demo.LicenseKey
	w.startServer("127.0.0.1:0")
	var keys struct {
		Keys []struct {
			PublicKey string `json:"public_key"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(run(t, w.serverBin, "--db", w.db, "--json", "keys", "show"), &keys); err != nil || len(keys.Keys) == 0 {
		t.Fatalf("keys show --json: %v", err)
	}
	w.pinned = keys.Keys[0].PublicKey
	w.agentAt = freeAddr(t)
	w.startAgent()
	return w
}

func (w *world) startServer(listen string) {
	f := filepath.Join(w.dir, "server.addr")
	os.Remove(f)
	w.server = startProc(w.t, "entitle-server", w.serverBin, "--db", w.db, "serve", "--listen", listen, "--addr-file", f)
	w.serverAt = testenv.ReadAddrFile(w.t, f, 30*time.Second)
}

func (w *world) startAgent() {
	f := filepath.Join(w.dir, "agent.addr")
	os.Remove(f)
	w.agent = startProc(w.t, "entitle agent", w.agentBin, "service", "run", "--state-dir", w.stateDir,
		"--profile-dir", filepath.Join(w.dir, "profiles"), "--listen", w.agentAt,
		"--server-url", "http://"+w.serverAt, "--pinned-key", w.pinned, "--addr-file", f)
	testenv.ReadAddrFile(w.t, f, 30*time.Second)
}

func (w *world) client() *agentclient.Client {
	tok, err := agentclient.ReadToken(w.stateDir)
	if err != nil {
		w.t.Fatal(err)
	}
	c, err := agentclient.New(agentclient.Options{BaseURL: "http://" + w.agentAt, Token: tok})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// seatsUsed asks the server's command line how many seats the demo license uses.
func (w *world) seatsUsed() int {
	var lic []struct {
		Key       string `json:"key"`
		SeatsUsed int    `json:"seats_used"`
	}
	if err := json.Unmarshal(run(w.t, w.serverBin, "--db", w.db, "--json", "license", "list"), &lic); err != nil {
		w.t.Fatalf("license list --json: %v", err)
	}
	for _, l := range lic {
		if l.Key == w.key {
			return l.SeatsUsed
		}
	}
	w.t.Fatalf("demo license not listed")
	return -1
}

// TestRealAgent drives the tray against the real agent and licensing server:
// inactive, active, offline (server stopped), back online, deactivation from
// the menu (seat freed on the server), agent stopped and restarted.
// Remote-only management is TestRealAgentRemoteManaged.
func TestRealAgent(t *testing.T) {
	bin := trayBinary(t)
	w := newWorld(t)
	bus := traytest.StartBus(t)
	bus.StartWatcher(t)
	tr := traytest.StartTray(t, bin, bus, nil, "--listen", w.agentAt, "--state-dir", w.stateDir,
		"--max-backoff", "2s", "--log-level", "debug")

	// Inactive.
	tr.WaitItem(t, "Not activated", 30*time.Second)
	if it := tr.WaitItem(t, "Activate…", time.Second); !it.Enabled {
		t.Error("Activate… disabled")
	}
	if it := tr.WaitItem(t, "Check now", time.Second); it.Enabled {
		t.Error("Check now enabled while not activated")
	}

	// Active (license key through the agent; browser sign-in needs a person).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := w.client().Activate(ctx, agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: w.key}); err != nil {
		t.Fatalf("activate: %v", err)
	}
	st := tr.WaitItem(t, "Active — Pro plan, until ", 15*time.Second)
	t.Logf("status line: %q", st.Label)
	if n := w.seatsUsed(); n != 1 {
		t.Errorf("seats used after activation: %d", n)
	}
	tr.ClickLabel(t, "Check now")
	tr.WaitItem(t, "Checked with the licensing server", 15*time.Second)

	// Offline: the server stops; a check makes the agent notice.
	w.server.stop()
	tr.ClickLabel(t, "Check now")
	tr.WaitItem(t, "Offline — licensed until ", 30*time.Second)

	// Back online on the same address.
	w.startServer(w.serverAt)
	tr.ClickLabel(t, "Check now")
	tr.WaitItem(t, "Active — Pro plan", 30*time.Second)

	// Deactivate from the menu: confirmation, then the seat is freed on the server.
	tr.ClickLabel(t, "Deactivate this computer…")
	tr.ClickLabel(t, "Yes, deactivate")
	tr.WaitItem(t, "Not activated", 30*time.Second)
	tr.WaitItem(t, "This computer was deactivated", 5*time.Second)
	if n := w.seatsUsed(); n != 0 {
		t.Errorf("seats used after deactivation: %d", n)
	}

	// The agent stops: "Agent not running"; it starts again: the tray recovers.
	w.agent.stop()
	tr.WaitItem(t, "Agent not running", 15*time.Second)
	if tr.Exited() {
		t.Fatal("tray exited when the agent stopped")
	}
	w.startAgent()
	tr.WaitItem(t, "Not activated", 30*time.Second)
	if out := tr.Output(); strings.Contains(out, "panic") {
		t.Errorf("tray output mentions a panic:\n%s", out)
	}
}

// TestRealAgentProfilesFolder clicks "Open profiles folder" against the real
// agent. It needs the agent to report its profile folder in /v1/status
// (Status.Profiles, i.e. `entitle service run` passing a ProfileSource to the
// engine).
func TestRealAgentProfilesFolder(t *testing.T) {
	bin := trayBinary(t)
	w := newWorld(t)
	bus := traytest.StartBus(t)
	env, opened := opener(t)
	tr := traytest.StartTray(t, bin, bus, env, "--listen", w.agentAt, "--state-dir", w.stateDir)
	tr.WaitItem(t, "Not activated", 30*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := w.client().Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Profiles == nil || st.Profiles.Folder == "" {
		t.Fatalf("the agent reports no profile folder in %s (Status.Profiles is %+v): the tray cannot offer it", agentapi.PathStatus, st.Profiles)
	}
	tr.ClickLabel(t, "Open profiles folder")
	testenv.WaitFor(t, 10*time.Second, "profiles folder opened", func() bool {
		return contains(opened(), st.Profiles.Folder)
	})
}

// TestRealAgentRemoteManaged: on a license the server issues with management
// mode "remote", the tray names who manages the computer and offers no
// deactivation, with the agent's reason; clicking the greyed item frees
// nothing.
func TestRealAgentRemoteManaged(t *testing.T) {
	bin := trayBinary(t)
	w := newWorld(t)
	var demo struct {
		Email string `json:"email"`
	}
	if err := json.Unmarshal(run(t, w.serverBin, "--db", w.db, "--json", "demo"), &demo); err != nil || demo.Email == "" {
		t.Fatalf("demo --json: %v", err)
	}
	var lic struct {
		ID             string `json:"id"`
		Key            string `json:"key"`
		ManagementMode string `json:"management_mode"`
	}
	out := run(t, w.serverBin, "--db", w.db, "--json", "license", "create", "--owner", demo.Email, "--plan", "Team",
		"--seats", "1", "--management-mode", "remote")
	if err := json.Unmarshal(out, &lic); err != nil || lic.ManagementMode != "remote" {
		t.Fatalf("license create --json: %v: %s", err, out)
	}
	bus := traytest.StartBus(t)
	bus.StartWatcher(t)
	tr := traytest.StartTray(t, bin, bus, nil, "--listen", w.agentAt, "--state-dir", w.stateDir,
		"--max-backoff", "2s")
	tr.WaitItem(t, "Not activated", 30*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := w.client().Activate(ctx, agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: lic.Key}); err != nil {
		t.Fatalf("activate: %v", err)
	}
	tr.WaitItem(t, "Active — Team plan", 15*time.Second)
	tr.WaitItem(t, "Managed by "+demo.Email, 5*time.Second)
	if it := tr.WaitItem(t, "Deactivate this computer…", 5*time.Second); it.Enabled {
		t.Fatal("Deactivate this computer… is enabled on a license managed remotely")
	}
	note := tr.WaitItem(t, "managed remotely by "+demo.Email+": ask your administrator", 5*time.Second)
	if note.Enabled {
		t.Errorf("the reason %q is a clickable item", note.Label)
	}

	// A click on the greyed item changes nothing: still active, seat held.
	items := tr.StableLayout(t, "Quit", 10*time.Second)
	if it, ok := traytest.Find(items, "Deactivate this computer…"); ok {
		_ = tr.Click(it.ID)
	}
	time.Sleep(500 * time.Millisecond)
	if _, ok := traytest.Find(tr.StableLayout(t, "Quit", 10*time.Second), "Yes, deactivate"); ok {
		t.Error("the greyed item asked for confirmation")
	}
	st, err := w.client().Status(ctx)
	if err != nil || !st.Activated || st.DeactivateOK {
		t.Fatalf("agent after the click: activated %v, deactivate_allowed %v, %v", st.Activated, st.DeactivateOK, err)
	}
	var lics []struct {
		ID        string `json:"id"`
		SeatsUsed int    `json:"seats_used"`
	}
	if err := json.Unmarshal(run(t, w.serverBin, "--db", w.db, "--json", "license", "list"), &lics); err != nil {
		t.Fatalf("license list --json: %v", err)
	}
	for _, l := range lics {
		if l.ID == lic.ID && l.SeatsUsed != 1 {
			t.Errorf("seats used on the managed license: %d, want 1", l.SeatsUsed)
		}
	}
}
