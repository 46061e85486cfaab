package pkgtest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
)

// serviceShim is a systemctl for a computer where systemd is not PID 1: it
// logs each call to /run/systemctl.log and answers what kardianos/service
// asks (is-active, list-unit-files) from the unit files on disk.
const serviceShim = `cat >/usr/bin/systemctl <<'SHIM'
#!/bin/sh
echo "$*" >>/run/systemctl.log
case "$1" in
  is-active) echo inactive; exit 3 ;;
  list-unit-files) [ -f "/etc/systemd/system/$4" ] && echo "$4 enabled enabled"; exit 0 ;;
esac
exit 0
SHIM
chmod 0755 /usr/bin/systemctl
: >/run/systemctl.log
`

// serviceDirs lists what a service installation may touch.
const serviceDirs = `find /etc/init.d /etc/rc?.d /etc/systemd/system -printf '%p %y %m %l\n' | LC_ALL=C sort`

// TestServiceInstall drives `entitle service install|status|uninstall` of a
// tarball install (the release binary copied to /usr/local/bin with the
// packaged agent.toml) under SysV init and under systemd, and checks that
// uninstall leaves the service folders exactly as they were.
func TestServiceInstall(t *testing.T) {
	dir := release(t, oldVersion)
	bin := fmt.Sprintf("/pkgs/bin/linux-%s/entitle", runtime.GOARCH)
	tests := []struct {
		name, platform string
		systemd        bool
		files          []string // what install creates
		unitWant       []string // lines of the unit or init script
		calls          []string // systemctl calls of install, status, uninstall
	}{
		{
			name: "sysv", platform: "unix-systemv",
			files: []string{"/etc/init.d/entitle-agent", "/etc/rc2.d/S50entitle-agent", "/etc/rc0.d/K02entitle-agent"},
			unitWant: []string{
				`cmd="/usr/local/bin/entitle "service" "run" "--config" "/etc/entitle/agent.toml" "--token-group" "entitle""`,
			},
		},
		{
			name: "systemd", platform: "linux-systemd", systemd: true,
			files: []string{"/etc/systemd/system/entitle-agent.service"},
			unitWant: []string{
				"ExecStart=/usr/local/bin/entitle \"service\" \"run\" \"--config\" \"/etc/entitle/agent.toml\" \"--token-group\" \"entitle\"",
			},
			calls: []string{
				"enable entitle-agent.service", "daemon-reload", // install
				"is-active entitle-agent.service", "list-unit-files -t service entitle-agent.service", // status
				"disable entitle-agent.service", "daemon-reload", // uninstall
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, dir)
			sb.mustSh(serviceShim)
			if tt.systemd {
				sb.mustSh("mkdir -p /run/systemd/system")
			}
			sb.mustSh("install -m 0755 " + bin + " /usr/local/bin/entitle && getent group entitle >/dev/null || groupadd --system entitle")
			sb.mustSh("install -d -m 0755 /etc/entitle && install -m 0644 " + "/dev/stdin /etc/entitle/agent.toml <<'TOML'\n" + agentTOML(t) + "TOML")
			before := sb.mustSh(serviceDirs)

			out := sb.mustSh("entitle service install --config /etc/entitle/agent.toml --token-group entitle")
			if !strings.Contains(out, tt.platform) {
				t.Errorf("install output %q does not name the platform %s", out, tt.platform)
			}
			for _, f := range tt.files {
				if got := sb.stat(f); got == "absent" {
					t.Errorf("install did not create %s", f)
				}
			}
			unit := sb.mustSh("cat " + tt.files[0])
			for _, want := range tt.unitWant {
				if !strings.Contains(unit, want) {
					t.Errorf("%s lacks %s:\n%s", tt.files[0], want, unit)
				}
			}
			if out, err := sb.sh("entitle service status"); err != nil || !strings.Contains(out, "stopped") {
				t.Errorf("status after install: %q (%v), want stopped", out, err)
			}
			// A second install must refuse rather than overwrite.
			if out, err := sb.sh("entitle service install --config /etc/entitle/agent.toml"); err == nil {
				t.Errorf("second install succeeded: %s", out)
			}

			sb.mustSh("entitle service uninstall")
			if out, err := sb.sh("entitle service status"); err != nil || !strings.Contains(out, "not installed") {
				t.Errorf("status after uninstall: %q (%v), want not installed", out, err)
			}
			if after := sb.mustSh(serviceDirs); after != before {
				t.Errorf("uninstall did not restore the service folders:\n%s", lineDiff(before, after))
			}
			calls := sb.systemctlCalls()
			if tt.systemd && !containsInOrder(calls, tt.calls) {
				t.Errorf("systemctl calls:\n got %q\nwant in order %q", calls, tt.calls)
			}
			if !tt.systemd && len(calls) != 0 {
				t.Errorf("SysV install called systemctl: %q", calls)
			}
		})
	}
}

// lineDiff lists the lines only in a (-) and only in b (+).
func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ina, inb := in(a), in(b)
	var d []string
	for _, l := range strings.Split(a, "\n") {
		if !inb[l] {
			d = append(d, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ina[l] {
			d = append(d, "+ "+l)
		}
	}
	return strings.Join(d, "\n")
}

// containsInOrder reports whether want is a subsequence of got.
func containsInOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

// TestPackagedAgentRuns installs the .deb and runs the packaged agent the way
// entitle.service does (as the user entitle, the packaged agent.toml,
// --token-group entitle): it must accept the configuration, write its API
// token readable by the group entitle and nobody else, and answer on loopback.
func TestPackagedAgentRuns(t *testing.T) {
	sb := newSandbox(t, release(t, oldVersion))
	sb.systemctlShim(false)
	sb.mustSh("dpkg -i /pkgs/entitle_*.deb")
	// The whole background job's output goes to the log: the agent now keeps
	// running without a server (not_configured), and a job still holding this
	// script's output pipe would keep the script from returning.
	sb.mustSh(`cd / && { ENTITLE_LISTEN=127.0.0.1:0 exec setsid runuser -u entitle -- /usr/bin/entitle service run \
  --config /etc/entitle/agent.toml --token-group entitle; } >/run/agent.log 2>&1 </dev/null & echo $! >/run/agent.pid`)
	t.Cleanup(func() { _, _ = sb.sh("kill $(cat /run/agent.pid) 2>/dev/null; true") })
	deadline := time.Now().Add(30 * time.Second)
	for sb.stat("/var/lib/entitle/api-token") == "absent" {
		if time.Now().After(deadline) {
			t.Fatalf("no api-token after 30s; agent log:\n%s", sb.mustSh("cat /run/agent.log"))
		}
		if _, err := sb.sh("kill -0 $(cat /run/agent.pid)"); err != nil {
			t.Fatalf("agent exited; log:\n%s", sb.mustSh("cat /run/agent.log"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := sb.stat("/var/lib/entitle/api-token"); got != "640 entitle entitle regular file" {
		t.Errorf("api-token: %s, want 640 entitle entitle", got)
	}
	if got := sb.mustSh("runuser -u nobody -- cat /var/lib/entitle/api-token 2>&1 || echo denied"); !strings.Contains(got, "denied") {
		t.Errorf("a user outside the group entitle can read the token: %q", got)
	}
}

// agentTOML returns the packaged default agent.toml.
func agentTOML(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "installer", "linux", "agent", "agent.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
