//go:build linux

// Package e2e runs the real entitle-tray binary on a private D-Bus session
// bus and drives its menu the way a desktop would (see tray/traytest).
package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/tray/traytest"
)

var (
	buildOnce sync.Once
	trayBin   string
	buildDir  string
)

// trayBinary builds entitle-tray once per test run.
func trayBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() { trayBin = testenv.BuildBinary(&onceTB{TB: t}, "./tray/cmd/entitle-tray") })
	if trayBin == "" {
		t.Fatal("building entitle-tray failed")
	}
	return trayBin
}

// onceTB keeps the built binary beyond the first test's TempDir.
type onceTB struct{ testing.TB }

func (o *onceTB) TempDir() string {
	if buildDir == "" {
		d, err := os.MkdirTemp("", "entitle-tray-e2e-")
		if err != nil {
			o.Fatal(err)
		}
		buildDir = d
	}
	return buildDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// opener installs an xdg-open on PATH that records its arguments, and
// returns the environment for the tray and a function reading the record.
func opener(t *testing.T) ([]string, func() []string) {
	t.Helper()
	dir := t.TempDir()
	rec := filepath.Join(dir, "opened")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + rec + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH")}
	return env, func() []string {
		b, _ := os.ReadFile(rec)
		return strings.Fields(string(b))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// waitGone polls until no item starts with prefix.
func waitGone(t *testing.T, tr *traytest.Tray, prefix string, timeout time.Duration) {
	t.Helper()
	testenv.WaitFor(t, timeout, "menu item "+prefix+" to go", func() bool {
		items, err := tr.Layout()
		if err != nil {
			return false
		}
		_, ok := traytest.Find(items, prefix)
		return !ok
	})
}
