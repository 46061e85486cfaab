package pkgtest

import (
	"slices"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/testenv"
)

// TestUnitsVerify installs both packages and runs systemd-analyze verify on
// every unit they ship: exit 0 and not a single diagnostic (verify exits 0 on
// unknown keys and bad values, printing a warning).
func TestUnitsVerify(t *testing.T) {
	testenv.LookPath(t, "systemd-analyze")
	sb := newSandbox(t, release(t, oldVersion))
	sb.systemctlShim(false)
	sb.mustSh("dpkg -i /pkgs/entitle_*.deb /pkgs/entitle-server_*.deb")
	tests := []struct {
		name, cmd string
	}{
		{"agent", "systemd-analyze verify /usr/lib/systemd/system/entitle.service"},
		{"server", "systemd-analyze verify /usr/lib/systemd/system/entitle-server.service"},
		{"tray", "mkdir -p -m 0700 /run/user/0 && XDG_RUNTIME_DIR=/run/user/0 systemd-analyze --user verify /usr/lib/systemd/user/entitle-tray.service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := sb.sh(tt.cmd + " 2>&1")
			if err != nil || strings.TrimSpace(out) != "" {
				t.Errorf("%s: %v\n%s", tt.cmd, err, out)
			}
		})
	}
	// The hardening the brief asks for is really there.
	unit := sb.mustSh("cat /usr/lib/systemd/system/entitle.service")
	for _, line := range []string{
		"User=entitle", "StateDirectory=entitle", "StateDirectoryMode=0750", "ProtectSystem=strict",
		"ProtectHome=read-only", "NoNewPrivileges=yes", "PrivateTmp=yes",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "Restart=on-failure",
		"ExecStart=/usr/bin/entitle service run --config /etc/entitle/agent.toml --token-group entitle",
		"Alias=entitle-agent.service",
	} {
		if !slices.Contains(strings.Split(unit, "\n"), line) {
			t.Errorf("entitle.service lacks %q", line)
		}
	}
	desktop := sb.mustSh("cat /etc/xdg/autostart/entitle-tray.desktop")
	for _, line := range []string{"[Desktop Entry]", "Type=Application", "Exec=/usr/bin/entitle-tray", "X-systemd-skip=true"} {
		if !slices.Contains(strings.Split(desktop, "\n"), line) {
			t.Errorf("entitle-tray.desktop lacks %q", line)
		}
	}
	if out := sb.mustSh("cat /usr/lib/systemd/user/entitle-tray.service"); !strings.Contains(out, "WantedBy=graphical-session.target") {
		t.Errorf("entitle-tray.service is not wanted by graphical-session.target:\n%s", out)
	} else if !slices.Contains(strings.Split(out, "\n"), "RestartPreventExitStatus=3") {
		t.Errorf("entitle-tray.service restarts a tray that found no session bus (exit 3):\n%s", out)
	}
}

// TestServerPackage installs the server package, lets the real server migrate
// its default SQLite database with the packaged configuration as its own user
// (so the default server.toml is one the server accepts), then purges it.
func TestServerPackage(t *testing.T) {
	sb := newSandbox(t, release(t, oldVersion))
	sb.systemctlShim(true)
	sb.mustSh("dpkg -i /pkgs/entitle-server_*.deb")
	for path, want := range map[string]string{
		"/usr/bin/entitle-server":                        "755 root root regular file",
		"/usr/lib/systemd/system/entitle-server.service": "644 root root regular file",
		"/etc/entitle-server":                            "750 root entitle-server directory",
		"/etc/entitle-server/server.toml":                "640 root entitle-server regular file",
		"/var/lib/entitle-server":                        "750 entitle-server entitle-server directory",
	} {
		if got := sb.stat(path); got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
	if got, want := sb.systemctlCalls(), []string{"daemon-reload", "enable entitle-server.service", "start entitle-server.service"}; !slices.Equal(got, want) {
		t.Errorf("systemctl calls %q, want %q", got, want)
	}

	// As the unit runs it: its user, its umask.
	out := sb.mustSh("cd / && umask 0027 && runuser -u entitle-server -- entitle-server --config /etc/entitle-server/server.toml migrate")
	if !strings.Contains(out, "up to date") {
		t.Errorf("migrate: %s", out)
	}
	if got := sb.stat("/var/lib/entitle-server/server.db"); got != "640 entitle-server entitle-server regular file" && got != "600 entitle-server entitle-server regular file" {
		t.Errorf("server.db: %s", got)
	}

	sb.mustSh("dpkg -r entitle-server")
	if got := sb.stat("/var/lib/entitle-server/server.db"); got == "absent" {
		t.Error("removal deleted the database")
	}
	if got, want := sb.systemctlCalls(), []string{"disable --now entitle-server.service", "daemon-reload"}; !slices.Equal(got, want) {
		t.Errorf("systemctl calls on removal %q, want %q", got, want)
	}
	sb.mustSh("dpkg -P entitle-server")
	for _, path := range []string{"/var/lib/entitle-server", "/etc/entitle-server"} {
		if got := sb.stat(path); got != "absent" {
			t.Errorf("%s after purge: %s", path, got)
		}
	}
}
