package pkgtest

import (
	"slices"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/testenv"
)

// activatedState writes what an activated agent with one signature profile
// keeps in /var/lib/entitle (file names of agent/state and agent/profiles,
// the agent's owner and modes), and marks agent.toml as edited by the admin.
const activatedState = `
umask 077
d=/var/lib/entitle
cat >$d/state.json <<'JSON'
{"lease":"eyJhbGciOiJFZERTQSJ9.eyJsaWMiOiJMLTEyMyJ9.c2ln","device_id":"dev_3f9a1c","credential":"cred_5d2e8b7f0a","server_url":"https://licensing.example.com","account":"ada@example.com","organization":"Example Ltd","checkin_after":21600,"trusted_time":"2026-11-20T09:00:00Z","last_checkin":"2026-11-20T09:00:00Z"}
JSON
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >$d/state.key
umask 027
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >$d/api-token
p=$d/profiles/6f1c2a4e-93b1-4c55-8d2e-0a7b9c3d5e11
mkdir -p $p
printf '{"format":1,"id":"6f1c2a4e-93b1-4c55-8d2e-0a7b9c3d5e11","name":"Ada Lovelace","owner":"ada","created":"2026-11-20T09:01:00Z","updated":"2026-11-20T09:01:00Z"}\n' >$p/profile.json
printf -- '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGVGb3JUZXN0czAKBggqhkjOPQQDAjAW\n-----END CERTIFICATE-----\n' >$p/certificate.pem
(umask 077 && printf -- '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n' >$p/key.pem)
printf '6f1c2a4e-93b1-4c55-8d2e-0a7b9c3d5e11\n' >$d/profiles/default
chown -R entitle:entitle $d
printf '\nserver_url = "https://licensing.example.com"\n' >>/etc/entitle/agent.toml
`

// stateListing describes every file under /var/lib/entitle (path, mode,
// owner, size, modification time, checksum): an upgrade or removal must leave
// it byte for byte as it was.
const stateListing = `cd /var/lib/entitle && find . -printf '%p %m %u:%g %s %T@\n' | LC_ALL=C sort &&
find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum`

// pkgOps are the package manager commands of one package format.
type pkgOps struct {
	install, upgrade, remove, purge string
	installed                       string // prints the installed version
}

var debOps = pkgOps{
	install:   "dpkg -i /pkgs/" + oldVersion + "/entitle_*.deb",
	upgrade:   "dpkg -i /pkgs/" + newVersion + "/entitle_*.deb",
	remove:    "dpkg -r entitle",
	purge:     "dpkg -P entitle",
	installed: "dpkg-query -W -f '${Version} ${db:Status-Status}' entitle",
}

// rpm on Debian has no database of Debian's packages: --nodeps.
var rpmOps = pkgOps{
	install:   "rpm -i --nodeps /pkgs/" + oldVersion + "/entitle-[0-9]*.rpm",
	upgrade:   "rpm -U --nodeps /pkgs/" + newVersion + "/entitle-[0-9]*.rpm",
	remove:    "rpm -e entitle",
	installed: "rpm -q --qf '%{VERSION} installed' entitle",
}

// TestAgentPackageLifecycle installs, upgrades, removes and purges the agent
// package for real, with and without systemd, and checks the maintainer
// scripts' work at each step.
func TestAgentPackageLifecycle(t *testing.T) {
	pkgs := bothReleases(t)
	tests := []struct {
		name    string
		ops     pkgOps
		systemd bool
	}{
		{"deb/systemd", debOps, true},
		{"deb/no-systemd", debOps, false},
		{"rpm/systemd", rpmOps, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.ops.install == rpmOps.install {
				testenv.LookPath(t, "rpm")
			}
			sb := newSandbox(t, pkgs)
			sb.systemctlShim(tt.systemd)
			calls := func(want ...string) {
				t.Helper()
				if !tt.systemd {
					want = nil // without systemd the scripts never call systemctl
				}
				if got := sb.systemctlCalls(); !slices.Equal(got, want) {
					t.Errorf("systemctl calls:\n got %q\nwant %q", got, want)
				}
			}

			// First install: user, group, folders, units enabled and started.
			out := sb.mustSh(tt.ops.install)
			if !strings.Contains(out, "usermod -aG entitle") {
				t.Errorf("install output lacks the group hint:\n%s", out)
			}
			for path, want := range map[string]string{
				"/usr/bin/entitle":                           "755 root root regular file",
				"/usr/bin/entitle-tray":                      "755 root root regular file",
				"/usr/lib/systemd/system/entitle.service":    "644 root root regular file",
				"/usr/lib/systemd/user/entitle-tray.service": "644 root root regular file",
				"/etc/xdg/autostart/entitle-tray.desktop":    "644 root root regular file",
				"/etc/entitle":                               "750 root entitle directory",
				"/etc/entitle/agent.toml":                    "640 root entitle regular file",
				"/var/lib/entitle":                           "750 entitle entitle directory",
				"/var/lib/entitle/profiles":                  "750 entitle entitle directory",
			} {
				if got := sb.stat(path); got != want {
					t.Errorf("%s: %s, want %s", path, got, want)
				}
			}
			user := strings.Split(strings.TrimSpace(sb.mustSh("getent passwd entitle")), ":")
			if len(user) != 7 || user[5] != "/var/lib/entitle" || !strings.HasSuffix(user[6], "/nologin") {
				t.Errorf("user entitle: %q", user)
			}
			if uid := strings.TrimSpace(sb.mustSh("id -u entitle")); len(uid) > 3 {
				t.Errorf("entitle has uid %s: want a system user", uid)
			}
			if g := strings.TrimSpace(sb.mustSh("id -gn entitle")); g != "entitle" {
				t.Errorf("entitle's group is %s", g)
			}
			calls("daemon-reload", "enable entitle.service", "--global enable entitle-tray.service", "start entitle.service")
			if got := sb.mustSh(tt.ops.installed); got != oldVersion+" installed" {
				t.Errorf("installed: %q", got)
			}

			// An activated computer with a profile, and an edited agent.toml.
			sb.mustSh(activatedState)
			before := sb.mustSh(stateListing)
			config := sb.mustSh("cat /etc/entitle/agent.toml")

			// Upgrade: state and edited configuration kept, agent restarted.
			sb.mustSh(tt.ops.upgrade)
			if got := sb.mustSh(tt.ops.installed); got != newVersion+" installed" {
				t.Errorf("after upgrade: %q", got)
			}
			if got := sb.mustSh("entitle version"); !strings.Contains(got, newVersion) {
				t.Errorf("entitle version after upgrade: %q", got)
			}
			if after := sb.mustSh(stateListing); after != before {
				t.Errorf("the upgrade changed /var/lib/entitle:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if got := sb.mustSh("cat /etc/entitle/agent.toml"); got != config {
				t.Errorf("the upgrade replaced the edited agent.toml:\n%s", got)
			}
			calls("daemon-reload", "try-restart entitle.service")

			// Removal: agent stopped and disabled, the seat message, state kept.
			out = sb.mustSh(tt.ops.remove)
			for _, want := range []string{"seat", "entitle deactivate", "account page"} {
				if !strings.Contains(out, want) {
					t.Errorf("removal output lacks %q:\n%s", want, out)
				}
			}
			if got := sb.stat("/usr/bin/entitle"); got != "absent" {
				t.Errorf("/usr/bin/entitle after removal: %s", got)
			}
			if after := sb.mustSh(stateListing); after != before {
				t.Errorf("removal changed /var/lib/entitle:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			calls("disable --now entitle.service", "--global disable entitle-tray.service", "daemon-reload")
			// The autostart entry is a conffile and stays; its TryExec names
			// the removed program, so sessions skip it instead of running a
			// missing program at every login.
			if entry := sb.stat("/etc/xdg/autostart/entitle-tray.desktop"); entry != "absent" {
				keys := desktopKeys(t, sb.mustSh("cat /etc/xdg/autostart/entitle-tray.desktop"))
				if keys["TryExec"] == "" || sb.stat(keys["TryExec"]) != "absent" {
					t.Errorf("leftover autostart entry after removal has TryExec=%q (%s)", keys["TryExec"], sb.stat(keys["TryExec"]))
				}
			}

			if tt.ops.purge == "" {
				// rpm has no purge; it keeps an edited config as .rpmsave.
				if got := sb.stat("/etc/entitle/agent.toml.rpmsave"); got == "absent" {
					t.Error("rpm -e dropped the edited agent.toml")
				}
				return
			}
			if got := sb.mustSh("cat /etc/entitle/agent.toml"); got != config {
				t.Errorf("removal changed agent.toml:\n%s", got)
			}

			// Purge: state and configuration gone.
			sb.mustSh(tt.ops.purge)
			for _, path := range []string{"/var/lib/entitle", "/etc/entitle"} {
				if got := sb.stat(path); got != "absent" {
					t.Errorf("%s after purge: %s", path, got)
				}
			}
			if got := sb.mustSh("dpkg-query -W -f '${db:Status-Status}' entitle 2>/dev/null || echo unknown"); got != "not-installed" && got != "unknown\n" {
				t.Errorf("after purge dpkg knows entitle as %q", got)
			}
			calls("daemon-reload")
		})
	}
}

// bothReleases builds both releases and returns the folder holding them as
// subfolders named by version, for a sandbox's /pkgs.
func bothReleases(t *testing.T) string {
	t.Helper()
	release(t, oldVersion)
	release(t, newVersion)
	return workDir
}
