package pkgtest

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/testenv"
)

// entry is one file of a package as the package manager reports it.
type entry struct{ perms, owner, group string }

// debEntries parses `dpkg-deb -c` into path -> entry.
func debEntries(t *testing.T, deb string) map[string]entry {
	t.Helper()
	m := map[string]entry{}
	for _, line := range strings.Split(strings.TrimSpace(run(t, "dpkg-deb", "-c", deb)), "\n") {
		f := strings.Fields(line) // -rwxr-xr-x root/root 28 2026-11-22 14:30 ./usr/bin/entitle
		if len(f) < 6 {
			t.Fatalf("dpkg-deb -c line %q", line)
		}
		owner, group, _ := strings.Cut(f[1], "/")
		path := strings.TrimSuffix(strings.TrimPrefix(f[5], "."), "/")
		if path != "" {
			m[path] = entry{f[0], owner, group}
		}
	}
	return m
}

// rpmEntries lists an rpm's files as path -> entry.
func rpmEntries(t *testing.T, rpm string) map[string]entry {
	t.Helper()
	m := map[string]entry{}
	out := run(t, "rpm", "-qp", "--qf", `[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILENAMES}\n]`, rpm)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 {
			t.Fatalf("rpm file line %q", line)
		}
		m[f[3]] = entry{f[0], f[1], f[2]}
	}
	return m
}

// The agent package's files, the same in the .deb and the .rpm.
var agentFiles = map[string]entry{
	"/usr/bin/entitle":                           {"-rwxr-xr-x", "root", "root"},
	"/usr/bin/entitle-tray":                      {"-rwxr-xr-x", "root", "root"},
	"/usr/lib/systemd/system/entitle.service":    {"-rw-r--r--", "root", "root"},
	"/usr/lib/systemd/user/entitle-tray.service": {"-rw-r--r--", "root", "root"},
	"/etc/xdg/autostart/entitle-tray.desktop":    {"-rw-r--r--", "root", "root"},
	"/etc/entitle":                               {"drwxr-x---", "root", "entitle"},
	"/etc/entitle/agent.toml":                    {"-rw-r-----", "root", "entitle"},
	"/usr/share/doc/entitle/install.md":          {"-rw-r--r--", "root", "root"},
	// Icon=entitle of entitle-tray.desktop.
	"/usr/share/icons/hicolor/16x16/apps/entitle.png": {"-rw-r--r--", "root", "root"},
	"/usr/share/icons/hicolor/22x22/apps/entitle.png": {"-rw-r--r--", "root", "root"},
	"/usr/share/icons/hicolor/32x32/apps/entitle.png": {"-rw-r--r--", "root", "root"},
	"/usr/share/icons/hicolor/48x48/apps/entitle.png": {"-rw-r--r--", "root", "root"},
	"/usr/share/icons/hicolor/64x64/apps/entitle.png": {"-rw-r--r--", "root", "root"},
}

var serverFiles = map[string]entry{
	"/usr/bin/entitle-server":                        {"-rwxr-xr-x", "root", "root"},
	"/usr/lib/systemd/system/entitle-server.service": {"-rw-r--r--", "root", "root"},
	"/etc/entitle-server":                            {"drwxr-x---", "root", "entitle-server"},
	"/etc/entitle-server/server.toml":                {"-rw-r-----", "root", "entitle-server"},
	"/usr/share/doc/entitle-server/install.md":       {"-rw-r--r--", "root", "root"},
}

// checkFiles compares a package's files with want. Folders the package
// creates on the way (/usr, /etc/xdg, ...) must be root-owned 0755; nothing
// may be under /var/lib (the state folder belongs to the maintainer scripts,
// so an upgrade or removal can never touch it).
func checkFiles(t *testing.T, got, want map[string]entry) {
	t.Helper()
	for path, w := range want {
		if g, ok := got[path]; !ok {
			t.Errorf("%s missing", path)
		} else if g != w {
			t.Errorf("%s: got %v, want %v", path, g, w)
		}
	}
	for path, g := range got {
		if _, ok := want[path]; ok {
			continue
		}
		if !strings.HasPrefix(g.perms, "d") || g != (entry{"drwxr-xr-x", "root", "root"}) {
			t.Errorf("unexpected %s %v", path, g)
		}
		if strings.HasPrefix(path, "/var") {
			t.Errorf("the package ships %s: /var/lib/entitle must stay out of the package", path)
		}
	}
}

func TestDebContents(t *testing.T) {
	testenv.LookPath(t, "dpkg-deb")
	dir := release(t, oldVersion)
	arch := runtime.GOARCH
	tests := []struct {
		name      string
		deb       string
		files     map[string]entry
		fields    map[string]string
		conffiles []string
	}{
		{
			name:  "agent",
			deb:   debAgent(t, dir),
			files: agentFiles,
			fields: map[string]string{
				"Package": "entitle", "Version": oldVersion, "Architecture": arch,
				"Depends": "passwd", "Recommends": "ca-certificates", "Section": "utils",
			},
			conffiles: []string{"/etc/entitle/agent.toml", "/etc/xdg/autostart/entitle-tray.desktop"},
		},
		{
			name:  "server",
			deb:   debServer(t, dir),
			files: serverFiles,
			fields: map[string]string{
				"Package": "entitle-server", "Version": oldVersion, "Architecture": arch,
				"Depends": "passwd", "Section": "net",
			},
			conffiles: []string{"/etc/entitle-server/server.toml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFiles(t, debEntries(t, tt.deb), tt.files)
			for field, want := range tt.fields {
				if got := strings.TrimSpace(run(t, "dpkg-deb", "-f", tt.deb, field)); got != want {
					t.Errorf("%s: got %q, want %q", field, got, want)
				}
			}
			if d := run(t, "dpkg-deb", "-f", tt.deb, "Description"); !strings.Contains(d, "Entitle") {
				t.Errorf("Description %q", d)
			}
			conf := strings.Fields(run(t, "dpkg-deb", "-I", tt.deb, "conffiles"))
			slices.Sort(conf)
			if !slices.Equal(conf, tt.conffiles) {
				t.Errorf("conffiles %v, want %v", conf, tt.conffiles)
			}
			for _, script := range []string{"preinst", "postinst", "prerm", "postrm"} {
				if s := run(t, "dpkg-deb", "-I", tt.deb, script); !strings.HasPrefix(s, "#!/bin/sh\n") || !strings.Contains(s, "set -eu\n") {
					t.Errorf("%s does not start with #!/bin/sh and set -eu:\n%s", script, s)
				}
			}
		})
	}
}

func TestRPMContents(t *testing.T) {
	testenv.LookPath(t, "rpm")
	rpm := rpmAgent(t, release(t, oldVersion))
	checkFiles(t, rpmEntries(t, rpm), agentFiles)

	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	info := run(t, "rpm", "-qp", "--qf", `%{NAME}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SUMMARY}`, rpm)
	if want := "entitle|" + oldVersion + "|1|" + arch + "|Entitle licensing agent and tray"; info != want {
		t.Errorf("rpm header %q, want %q", info, want)
	}
	config := strings.Fields(run(t, "rpm", "-qp", "--configfiles", rpm))
	slices.Sort(config)
	if want := []string{"/etc/entitle/agent.toml", "/etc/xdg/autostart/entitle-tray.desktop"}; !slices.Equal(config, want) {
		t.Errorf("config files %v, want %v", config, want)
	}
	// agent.toml is %config(noreplace): an upgrade keeps a changed file.
	flags := run(t, "rpm", "-qp", "--qf", `[%{FILENAMES} %{FILEFLAGS:fflags}\n]`, rpm)
	if !strings.Contains(flags, "/etc/entitle/agent.toml cn\n") {
		t.Errorf("agent.toml is not config(noreplace):\n%s", flags)
	}
	if req := run(t, "rpm", "-qp", "--requires", rpm); !strings.Contains(req, "shadow-utils") {
		t.Errorf("requires %q: want shadow-utils (useradd, groupadd)", req)
	}
	scripts := run(t, "rpm", "-qp", "--scripts", rpm)
	for _, s := range []string{"preinstall scriptlet", "postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet", "useradd --system", "entitle deactivate"} {
		if !strings.Contains(scripts, s) {
			t.Errorf("rpm scripts lack %q", s)
		}
	}
}
