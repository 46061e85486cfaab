package demotest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/i18n/i18ntest"
)

// foreign listens on a loopback port like another program would, answering
// every request with 200 and a health-like body (the worst case: a plain
// health check would believe it is ours).
func foreign(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// TestRunDemoFailsClearly: when the demo's server or agent cannot start,
// `make run` stops with a message naming the cause and a non-zero status,
// and never goes on to activate against whatever answers on the port.
func TestRunDemoFailsClearly(t *testing.T) {
	bin := Bin(t)
	for _, tt := range []struct {
		name         string
		server, agnt func(*testing.T) int
		env          []string
		want         func(d *Demo) string
	}{
		{
			name:   "server port busy",
			server: foreign,
			want: func(d *Demo) string {
				return fmt.Sprintf("port %d (127.0.0.1) is already in use by another program, so the demo server cannot listen there", d.ServerPort)
			},
		},
		{
			name: "agent port busy",
			agnt: foreign,
			want: func(d *Demo) string {
				return fmt.Sprintf("port %d (127.0.0.1) is already in use by another program, so the demo agent cannot listen there", d.AgentPort)
			},
		},
		{
			name: "agent exits at start",
			env:  []string{"ENTITLE_LOG_LEVEL=chatty"}, // the agent refuses it and exits
			want: func(*Demo) string { return "make run: the agent did not start: it exited" },
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var sp, ap int
			if tt.server != nil {
				sp = tt.server(t)
			}
			if tt.agnt != nil {
				ap = tt.agnt(t)
			}
			d := Start(t, bin, sp, ap, tt.env...)
			code := d.WaitExit(t, 90*time.Second)
			stderr := d.Stderr.String()
			if code == 0 || !strings.Contains(stderr, tt.want(d)) {
				t.Errorf("run-demo.sh: exit %d, want non-zero and %q in stderr:\n%s\nstdout:\n%s", code, tt.want(d), stderr, d.Stdout)
			}
			if strings.Contains(stderr+d.Stdout.String(), "no license") || strings.Contains(d.Stdout.String(), Ready) || strings.Contains(d.Stdout.String(), ReadyFr) {
				t.Errorf("run-demo.sh went on past the failure:\n%s\n%s", stderr, d.Stdout)
			}
		})
	}
}

// TestRunDemo: `make run` starts the server and the agent and activates the
// demo license, so the agent answers entitled.
func TestRunDemo(t *testing.T) {
	d := Start(t, Bin(t), 0, 0)
	d.WaitReady(t, 120*time.Second)
	resp, err := http.Get(d.URL() + "/v1/entitlement")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Entitled bool   `json:"entitled"`
		State    string `json:"state"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || !body.Entitled || body.State != "active" {
		t.Fatalf("GET /v1/entitlement: %d %+v %v\n%s", resp.StatusCode, body, err, d.Stderr)
	}
}

// TestRunDemoInFrench: with a French locale `make run` speaks French, its
// own lines (a failure, the banner) under the catalog's French rules and the
// demo account's lines from the server's French output.
func TestRunDemoInFrench(t *testing.T) {
	bin := Bin(t)
	d := Start(t, bin, foreign(t), 0, "LANG=fr_FR.UTF-8")
	want := fmt.Sprintf("make run\u00a0: le port %d (127.0.0.1) est déjà pris par un autre programme", d.ServerPort)
	if code := d.WaitExit(t, 90*time.Second); code == 0 || !strings.Contains(d.Stderr.String(), want) {
		t.Fatalf("port busy: exit %d, want %q in:\n%s", code, want, d.Stderr)
	}
	// The shell command it suggests ('sport = :PORT') is not French text.
	if p := i18ntest.FrenchProblems(regexp.MustCompile(`'[^']*'`).ReplaceAllString(d.Stderr.String(), "x")); p != nil {
		t.Errorf("French failure %q breaks %v", d.Stderr, p)
	}

	d = Start(t, bin, 0, 0, "LANG=fr_FR.UTF-8")
	d.WaitReady(t, 120*time.Second)
	out := d.Stdout.String()
	for _, w := range []string{"Entitle fonctionne avec ses réglages intégrés", "Compte de démonstration\u00a0: demo@", "Clé de licence\u00a0:", "(3 postes)", ReadyFr} {
		if !strings.Contains(out, w) {
			t.Errorf("banner lacks %q:\n%s", w, out)
		}
	}
	// The banner's own French lines (not the commands it shows).
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "bin/") || strings.HasPrefix(strings.TrimSpace(line), "curl") {
			continue
		}
		if p := i18ntest.FrenchProblems(line); p != nil {
			t.Errorf("banner line %q breaks %v", line, p)
		}
	}
}
