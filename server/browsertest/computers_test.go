package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/server/servertest"
	"github.com/entitle/entitle/server/store"
)

// computersEnv is one real server (SQLite or PostgreSQL) checking its
// agents in every second, and the real agent binary.
type computersEnv struct {
	bin, agentBin, dsn string
	srv                *server
	pubKey             string
	axe                string
}

// TestComputersConsole: an organization's admin selects a computer that a
// real agent runs, sends deactivate through the confirmation, and the
// computer's page shows the command go from pending to succeeded while the
// agent turns inactive; with JavaScript on (the page updates itself) and
// off (reload until), in English and French, on both databases; axe-core
// checks each page.
func TestComputersConsole(t *testing.T) {
	testenv.LookPath(t, "chromium") // fail (CI) or skip before the slow builds
	var serverBin string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); serverBin = testenv.BuildBinary(t, "./server/cmd/entitle-server") }()
	agentBin := testenv.BuildBinary(t, "./agent/cmd/entitle")
	wg.Wait()
	if serverBin == "" {
		t.FailNow()
	}
	axe := loadAxe(t)
	br := startBrowser(t)
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ce := &computersEnv{bin: serverBin, agentBin: agentBin, axe: axe}
			if dialect == "sqlite" {
				ce.dsn = "sqlite:" + filepath.Join(t.TempDir(), "computers.db")
			} else {
				ce.dsn = testenv.PostgresDB(t)
			}
			cli(t, ce.bin, ce.dsn, "migrate")
			var keys struct {
				Keys []struct {
					PublicKey string `json:"public_key"`
				}
			}
			cliJSON(t, ce.bin, ce.dsn, "", &keys, "keys", "show", "--json")
			if len(keys.Keys) == 0 {
				t.Fatal("no signing key")
			}
			ce.pubKey = keys.Keys[0].PublicKey
			ce.srv = startServer(t, ce.bin, "--db", ce.dsn, "--checkin-interval", "1s", "--limit-activations", "off")
			for _, js := range []bool{false, true} {
				for _, lang := range []string{"en", "fr"} {
					name := fmt.Sprintf("JavaScript %s, %s", map[bool]string{false: "off", true: "on"}[js], lang)
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						ce.deactivateFlow(t, br, dialect, js, lang)
					})
				}
			}
		})
	}
}

// words are the texts the flow expects, per language.
var words = map[string]struct {
	list, consequence, inventory, queued, pending, succeeded, title string
	inventoryName, deactivateName, deactivated                      string
}{
	"en": {"Computers of", "This computer will stop being entitled within a second if online, at its next check-in otherwise",
		"This computer will send its profiles and certificates", "Queued", "pending", "succeeded", "a computer of",
		"Send the inventory", "Deactivate", "deactivated"},
	"fr": {"Postes de", "Ce poste cessera d’être couvert en moins d’une seconde s’il est en ligne, sinon à son prochain contact avec le serveur",
		"Ce poste enverra ses profils et ses certificats", "En file d’attente", "en attente", "réussie", "un poste de",
		"Envoyer l’inventaire", "Désactiver", "désactivé"},
}

func (ce *computersEnv) deactivateFlow(t *testing.T, br *browser, dialect string, js bool, lang string) {
	tag := fmt.Sprintf("%s-js-%v-%s", dialect, js, lang)
	w := words[lang]
	domain := strings.ReplaceAll(tag, "-", "") + ".example"
	admin := (&consoleEnv{bin: ce.bin, dsn: ce.dsn}).person(t, "admin@"+domain)
	var org struct {
		ID string `json:"id"`
	}
	cliJSON(t, ce.bin, ce.dsn, "", &org, "org", "create", "--name", "Fleet "+tag, "--owner", admin.email, "--json")
	var lic struct{ ID, Key string }
	cliJSON(t, ce.bin, ce.dsn, "", &lic, "license", "create", "--owner", admin.email, "--plan", "Team", "--features", "sign",
		"--seats", "2", "--management-mode", "remote", "--json")
	ce.exec(t, "UPDATE licenses SET organization_id = ? WHERE id = ?", org.ID, lic.ID)

	ag := ce.startAgent(t)
	ag.cli(t, "activate", "--license-key", lic.Key)
	st := ag.waitState(t, 30*time.Second, agentapi.StateActive)
	dev := st.Entitlement.DeviceID
	if dev == "" {
		t.Fatalf("the agent's status names no device: %+v", st)
	}

	base := ce.srv.Base
	orgBase := base + "/orgs/" + org.ID
	tb := br.open(t, js)
	fatalStatus(t, "GET /login", tb.open(base+"/login"), http.StatusOK, tb)
	if resp := tb.signIn(admin); resp.Status != http.StatusOK {
		t.Fatalf("sign in: %d %s", resp.Status, resp.URL)
	}
	if lang == "fr" {
		tb.click(`//button[@value="fr"]`)
	}

	// The overview, the organization's first page.
	fatalStatus(t, "GET overview", tb.open(orgBase+"/overview"), http.StatusOK, tb)
	if tb.count(`//svg[contains(@class,"chart-seat-use")]`)+tb.count(`//*[local-name()="svg"]`) == 0 {
		t.Fatalf("the overview has no chart\n%s", tb.html())
	}
	tb.accessible(ce.axe)
	tb.screenshot("console-overview-" + tag)
	fatalStatus(t, "GET computers", tb.open(orgBase+"/computers"), http.StatusOK, tb)
	tb.mustContain(`//h1`, w.list)
	tb.screenshot("console-computers-" + tag)

	// A command the agent runs: the page shows it pending while the agent
	// is held, then succeeded once the agent has run it.
	ag.pause(t)
	ce.sendFromList(t, tb, orgBase, dev, "send_inventory", w.inventory)
	state := `//tr[@class="command"][td[1][normalize-space()=%q]]/td[contains(@class,"state")]`
	inventory := fmt.Sprintf(state, w.inventoryName)
	if got := tb.text(inventory); got != w.pending {
		t.Fatalf("the command is %q right after it was queued, want %q", got, w.pending)
	}
	tb.accessible(ce.axe)
	tb.screenshot("console-computer-pending-" + tag)
	ag.resume(t)
	page := tb.location()
	testenv.WaitFor(t, 30*time.Second, "the page to show the command succeeded", func() bool {
		if !js {
			tb.open(page) // without JavaScript: reload
		}
		return tb.text(inventory) == w.succeeded
	})
	if js && tb.location() != page {
		t.Errorf("the page was left: %s", tb.location())
	}
	if js && tb.count(`//tr[@class="command"][@data-open]`) != 0 {
		t.Errorf("the script still counts the command open")
	}
	tb.screenshot("console-computer-succeeded-" + tag)

	// Deactivate: the server frees the seat when it is queued (the command
	// is done then), and the agent turns inactive at once.
	ce.sendFromList(t, tb, orgBase, dev, "deactivate", w.consequence)
	if got := tb.text(fmt.Sprintf(state, w.deactivateName)); got != w.succeeded {
		t.Errorf("deactivate is %q on the computer's page, want %q", got, w.succeeded)
	}
	tb.mustContain(`//dd[@id="status"]`, w.deactivated)
	ag.waitState(t, 30*time.Second, agentapi.StateInactive)
	tb.accessible(ce.axe)
	tb.screenshot("console-computer-deactivated-" + tag)
}

// sendFromList selects the computer on the list, sends the command through
// the confirmation (which must say consequence) and opens the computer's
// page from the outcome.
func (ce *computersEnv) sendFromList(t *testing.T, tb *tab, orgBase, dev, typ, consequence string) {
	t.Helper()
	fatalStatus(t, "GET computers", tb.open(orgBase+"/computers"), http.StatusOK, tb)
	tb.accessible(ce.axe)
	tb.do(chromedp.Click(chromedp.Search(fmt.Sprintf(`//input[@type="checkbox"][@value=%q]`, dev)), chromedp.NodeVisible))
	tb.do(chromedp.SetValue(chromedp.Search(`//select[@id="bulk-type"]`), typ))
	tb.click(`//button[@id="bulk-next"]`)
	tb.mustContain(`//p[@class="consequence"]`, consequence)
	tb.accessible(ce.axe)
	tb.click(`//button[@id="confirm"]`)
	tb.mustContain(`//tr[contains(@class,"outcome")]`, words[lang(tb)].queued)
	tb.accessible(ce.axe)
	tb.click(`//tr[contains(@class,"outcome")]//a`)
	tb.mustContain(`//h1`, words[lang(tb)].title)
}

// lang is the language of the tab's page.
func lang(tb *tab) string {
	return run(tb, chromedp.AttributeValue(chromedp.Search(`//html`), "lang")).Value
}

func (ce *computersEnv) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, ce.dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ctx, q, args...); err != nil {
		t.Fatal(err)
	}
}

// agentProc is one running `entitle service run`, the real agent.
type agentProc struct {
	ce       *computersEnv
	stateDir string
	addr     string
	cmd      *exec.Cmd
	out      *testenv.Buffer
}

func (ce *computersEnv) startAgent(t *testing.T) *agentProc {
	t.Helper()
	dir := t.TempDir()
	a := &agentProc{ce: ce, stateDir: filepath.Join(dir, "state"), out: &testenv.Buffer{}}
	addrFile := filepath.Join(dir, "agent.addr")
	args := append([]string{"service", "run", "--listen", "127.0.0.1:0", "--addr-file", addrFile}, a.flags()...)
	a.cmd = exec.Command(ce.agentBin, args...)
	a.cmd.Env = agentEnv()
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = a.cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = a.cmd.Process.Signal(syscall.SIGCONT)
		_ = a.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = a.cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("agent output:\n%s", a.out.String())
		}
	})
	a.addr = testenv.ReadAddrFile(t, addrFile, 20*time.Second)
	return a
}

// agentEnv is the environment without the developer's agent settings or
// locale.
func agentEnv() []string {
	var env []string
	for _, kv := range servertest.CleanEnv() {
		if !strings.HasPrefix(kv, "ENTITLE_") && !strings.HasPrefix(kv, "LANG=") && !strings.HasPrefix(kv, "LC_") {
			env = append(env, kv)
		}
	}
	return env
}

func (a *agentProc) flags() []string {
	return []string{"--state-dir", a.stateDir, "--profile-dir", filepath.Join(a.stateDir, "profiles"),
		"--server-url", a.ce.srv.Base, "--pinned-key", a.ce.pubKey}
}

// cli runs an entitle command against this agent and returns its stdout.
func (a *agentProc) cli(t *testing.T, args ...string) string {
	t.Helper()
	out, err := a.run(args...)
	if err != nil {
		t.Fatalf("entitle %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// run runs an entitle command; the error holds its output.
func (a *agentProc) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	full := append(append(args, "--listen", a.addr), a.flags()...)
	cmd := exec.CommandContext(ctx, a.ce.agentBin, full...)
	cmd.Env = agentEnv()
	var out, errb testenv.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%w\n%s%s", err, out.String(), errb.String())
	}
	return out.String(), nil
}

func (a *agentProc) waitState(t *testing.T, timeout time.Duration, want agentapi.State) agentapi.Status {
	t.Helper()
	var st agentapi.Status
	testenv.WaitFor(t, timeout, "agent state "+string(want), func() bool {
		// status exits non-zero when the computer is not entitled; its
		// JSON says why.
		out, err := a.run("status", "--json")
		if jerr := json.Unmarshal([]byte(out), &st); jerr != nil {
			t.Fatalf("status: %v %v", err, jerr)
		}
		return st.Entitlement.State == want
	})
	return st
}

// pause stops the agent's process (SIGSTOP), so a command queued now stays
// pending; resume lets it go on.
func (a *agentProc) pause(t *testing.T) {
	t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
}

func (a *agentProc) resume(t *testing.T) {
	t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
}
