package pkgtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
)

// The two releases the tests build: an upgrade goes from one to the other;
// and a vendor's build of the first for its own server (SERVER_URL,
// PINNED_KEYS).
const (
	oldVersion = "1.0.0"
	newVersion = "1.0.1"
	vendor     = "vendor"
)

// workDir holds every build of this test run; TestMain removes it.
var workDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "entitle-pkgtest-")
	if err != nil {
		panic(err)
	}
	workDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type buildResult struct {
	once sync.Once
	dir  string
	out  string
	err  error
}

var builds = map[string]*buildResult{oldVersion: {}, newVersion: {}, vendor: {}}

// targets of each release: the upgrade only needs the Linux agent packages.
var targets = map[string][]string{
	oldVersion: {"deb", "rpm", "server", "msi", "tar"},
	newVersion: {"deb", "rpm"},
	vendor:     {"deb", "rpm", "msi", "tar"},
}

// The vendor build's defaults: one pinned key begins with '-', as key ids
// and keys can.
const vendorServerURL = "https://licensing.vendor.example"

var vendorKeys = []string{"JWmSAEbLK245GMqv3VHAQeuqbKa5t-ZWtxcMGwlttGE", "-VJbSGMw6ADEbW2PUbdw75ohTQ4MFpYWpsf8gPL6Dsc"}

// buildEnv is the extra environment of each release's build.
var buildEnv = map[string][]string{
	oldVersion: {"VERSION=" + oldVersion},
	newVersion: {"VERSION=" + newVersion},
	vendor:     {"VERSION=" + oldVersion, "SERVER_URL=" + vendorServerURL, "PINNED_KEYS=" + strings.Join(vendorKeys, ",")},
}

// requireBuildTools fails (in CI) or skips the test when build.sh cannot run.
// nfpm is not needed: it is a go.mod tool (go tool nfpm).
func requireBuildTools(t *testing.T) {
	t.Helper()
	testenv.LookPath(t, "go")
	testenv.LookPath(t, "wixl")
}

// pathWithoutNfpm is $PATH without the folders holding an nfpm program (and
// without $GOPATH/bin), so the builds prove that the repository brings its own.
func pathWithoutNfpm() string {
	gopath, _ := exec.Command("go", "env", "GOPATH").Output()
	gobin := filepath.Join(strings.TrimSpace(string(gopath)), "bin")
	var keep []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "nfpm")); err == nil || filepath.Clean(dir) == gobin {
			continue
		}
		keep = append(keep, dir)
	}
	return strings.Join(keep, string(os.PathListSeparator))
}

// release builds the installers of version once per test run with
// installer/build.sh and returns the folder holding them.
func release(t *testing.T, version string) string {
	t.Helper()
	requireBuildTools(t)
	b := builds[version]
	b.once.Do(func() {
		b.dir = filepath.Join(workDir, version)
		start := time.Now()
		cmd := exec.Command(filepath.Join(testenv.RepoRoot(t), "installer", "build.sh"), targets[version]...)
		var env []string
		for _, kv := range os.Environ() {
			if k, _, _ := strings.Cut(kv, "="); k != "PATH" && k != "SERVER_URL" && k != "PINNED_KEYS" {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env, "PATH="+pathWithoutNfpm(), "OUT="+b.dir, "ARCH="+runtime.GOARCH)
		cmd.Env = append(cmd.Env, buildEnv[version]...)
		out, err := cmd.CombinedOutput()
		b.out, b.err = string(out), err
		t.Logf("installer/build.sh %s (%s): %s", strings.Join(targets[version], " "), version, time.Since(start).Round(time.Millisecond))
	})
	if b.err != nil {
		t.Fatalf("installer/build.sh for %s: %v\n%s", version, b.err, b.out)
	}
	return b.dir
}

// pkgFile returns the one file of dir matching pattern.
func pkgFile(t *testing.T, dir, pattern string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil || len(m) != 1 {
		t.Fatalf("want one %s in %s, found %v (%v)", pattern, dir, m, err)
	}
	return m[0]
}

// Package file names as nfpm and build.sh write them.
func debAgent(t *testing.T, dir string) string {
	return pkgFile(t, dir, "entitle_*_"+runtime.GOARCH+".deb")
}
func debServer(t *testing.T, dir string) string {
	return pkgFile(t, dir, "entitle-server_*_"+runtime.GOARCH+".deb")
}
func rpmAgent(t *testing.T, dir string) string { return pkgFile(t, dir, "entitle-[0-9]*.rpm") }
func msiFile(t *testing.T, dir string) string  { return pkgFile(t, dir, "entitle-*-x64.msi") }

// run runs a command and returns its standard output, failing the test on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}
