package demotest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
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
			if strings.Contains(stderr+d.Stdout.String(), "no license") || strings.Contains(d.Stdout.String(), Ready) {
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
