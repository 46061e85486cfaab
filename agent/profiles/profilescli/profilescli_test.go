package profilescli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/spf13/cobra"

	"github.com/entitle/entitle/pkg/i18n"

	"github.com/entitle/entitle/agent/profiles"
	"github.com/entitle/entitle/pkg/agentapi"
)

const token = "test-token"

type agent struct {
	url         string
	m           *profiles.Manager
	deactivated atomic.Int32
	activated   atomic.Int32
	active      atomic.Bool // what GET /v1/status says
}

// startAgent serves a real Manager's routes, plus activation endpoints,
// behind a token check like the local API's.
func startAgent(t *testing.T, mod ...func(*profiles.Options)) *agent {
	t.Helper()
	o := profiles.Options{Dir: t.TempDir(), BundleWorkFactor: 10}
	for _, f := range mod {
		f(&o)
	}
	m, err := profiles.New(o)
	if err != nil {
		t.Fatal(err)
	}
	a := &agent{m: m}
	e := echo.New()
	g := e.Group("/v1", func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().Header.Get(agentapi.TokenHeader) != token {
				return c.JSON(401, agentapi.Error{Code: agentapi.ErrUnauthorized, Message: "bad token"})
			}
			return next(c)
		}
	})
	m.Routes(g)
	g.GET("/status", func(c echo.Context) error {
		st := m.Status(0)
		return c.JSON(200, agentapi.Status{Activated: a.active.Load(), Profiles: &st})
	})
	g.DELETE("/activation", func(c echo.Context) error {
		a.deactivated.Add(1)
		a.active.Store(false)
		return c.JSON(200, agentapi.Status{})
	})
	g.POST("/activation", func(c echo.Context) error {
		a.activated.Add(1)
		return c.JSON(200, agentapi.ActivateResponse{Pending: &agentapi.PendingAuth{UserCode: "ABCD-EFGH", VerificationURI: "https://licensing.test/device"}})
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	a.url = srv.URL
	return a
}

// run executes the commands against a with stdin and returns stdout.
func run(t *testing.T, a *agent, stdin string, args ...string) (string, error) {
	t.Helper()
	return runTTY(t, a, false, stdin, args...)
}

// runTTY is run with stdin seen as a terminal or not.
func runTTY(t *testing.T, a *agent, tty bool, stdin string, args ...string) (string, error) {
	t.Helper()
	return runIn(t, a, nil, tty, stdin, args...)
}

// runIn runs the commands in the language of loc (nil: English).
func runIn(t *testing.T, a *agent, loc *i18n.Localizer, tty bool, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := &cobra.Command{Use: "entitle", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(Commands(Deps{
		Stdin: strings.NewReader(stdin), Stdout: &out,
		IsTerminal: func(any) bool { return tty },
		Connect:    func(*cobra.Command) (*Client, error) { return NewClient(a.url, token, nil) },
		Loc:        loc,
	})...)
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestProfilesCommands(t *testing.T) {
	a := startAgent(t)
	out, err := run(t, a, "", "profiles", "create", "--owner", "Jeanne Dupont", "--name", "Work")
	if err != nil || !strings.Contains(out, `Created profile "Work"`) {
		t.Fatalf("create: %v %s", err, out)
	}
	id := a.m.List(0)[0].ID
	out, err = run(t, a, "", "profiles", "list")
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "valid") || !strings.Contains(out, "*") {
		t.Fatalf("list: %v %s", err, out)
	}
	out, err = run(t, a, "", "profiles", "show", id)
	if err != nil || !strings.Contains(out, "self-signed") || !strings.Contains(out, "Valid until:") {
		t.Fatalf("show: %v %s", err, out)
	}
	if _, err := run(t, a, "", "profiles", "show", "../activation"); err == nil {
		t.Error("a path-like id was accepted")
	}
	dir := t.TempDir()
	p12 := filepath.Join(dir, "work.p12")
	if out, err = run(t, a, "secret-pw\n", "profiles", "export", id, "--out", p12, "--passphrase-stdin"); err != nil {
		t.Fatalf("export: %v %s", err, out)
	}
	if st, err := os.Stat(p12); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v %v", st, err)
	}
	if _, err = run(t, a, "secret-pw\n", "profiles", "export", id, "--out", p12, "--passphrase-stdin"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("overwrite: %v", err)
	}
	// Without a terminal and without --passphrase-stdin, no secret is asked.
	if _, err = run(t, a, "", "profiles", "export", id, "--out", filepath.Join(dir, "x.p12")); err == nil || !strings.Contains(err.Error(), "not a terminal") {
		t.Errorf("no terminal: %v", err)
	}
	b := startAgent(t)
	if _, err = run(t, b, "wrong\n", "profiles", "import", p12, "--passphrase-stdin"); err == nil || !strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong password: %v", err)
	}
	out, err = run(t, b, "secret-pw\n", "profiles", "import", p12, "--passphrase-stdin", "--name", "From old PC")
	if err != nil || !strings.Contains(out, `Imported "From old PC"`) {
		t.Fatalf("import: %v %s", err, out)
	}
	if _, err := run(t, a, "", "profiles", "delete", id); err == nil {
		t.Error("deleted without confirmation")
	}
	if out, err = run(t, a, "", "profiles", "delete", id, "--yes"); err != nil || len(a.m.List(0)) != 0 {
		t.Fatalf("delete: %v %s", err, out)
	}
}

func TestMigrateCommands(t *testing.T) {
	old := startAgent(t)
	old.active.Store(true)
	for _, n := range []string{"Work", "Home"} {
		if _, err := run(t, old, "", "profiles", "create", "--owner", "Jeanne", "--name", n); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "profiles.age")
	out, err := run(t, old, "long passphrase\n", "migrate", "export", "--out", file, "--passphrase-stdin")
	if err != nil || old.deactivated.Load() != 0 || !strings.Contains(out, "entitle deactivate") {
		t.Fatalf("export without deactivation: %v %s", err, out)
	}
	if _, err := run(t, old, "long passphrase\n", "migrate", "export", "--out", file, "--force", "--passphrase-stdin", "--deactivate"); err != nil || old.deactivated.Load() != 1 {
		t.Fatalf("export with deactivation: %v", err)
	}
	if _, err := run(t, old, "short\n", "migrate", "export", "--out", file+"2", "--passphrase-stdin"); err == nil {
		t.Error("short passphrase accepted")
	}
	nw := startAgent(t)
	if _, err := run(t, nw, "not it at all\n", "migrate", "import", file, "--passphrase-stdin"); err == nil || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	out, err = run(t, nw, "long passphrase\n", "migrate", "import", file, "--passphrase-stdin", "--activate")
	if err != nil || len(nw.m.List(0)) != 2 || nw.activated.Load() != 1 || !strings.Contains(out, "ABCD-EFGH") {
		t.Fatalf("import: %v %s", err, out)
	}
	out, err = run(t, nw, "long passphrase\n", "migrate", "import", file, "--passphrase-stdin")
	if err != nil || !strings.Contains(out, "2 profiles already present") {
		t.Fatalf("second import: %v %s", err, out)
	}
}
