package profiles

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/agent/profiles/certcheck"
	"github.com/entitle/entitle/agent/profiles/certcheck/p12test"
)

// Issue 16: a 76-byte PKCS#12 asking for 2^40 rounds, in the folder or
// through import, must neither hang the scan, the API nor shutdown.
func TestCostlyPKCS12DoesNotStopTheManager(t *testing.T) {
	dir := t.TempDir()
	writeProfileDir(t, dir, "good", testNow.Add(-time.Hour), goodFiles(t, certSpec{}))
	writeProfileDir(t, dir, "bomb", testNow, map[string][]byte{PKCS12File: p12test.CostlyPKCS12(t)})
	if err := os.WriteFile(filepath.Join(dir, "dropped.p12"), p12test.CostlyPKCS12(t), 0o600); err != nil {
		t.Fatal(err)
	}
	m := newTestManager(t, dir)

	p12test.Within(t, "the first scan", func() {
		got := byID(m.List(0))
		if got["good"].Status != certcheck.StatusValid {
			t.Errorf("good profile: %+v", got["good"])
		}
		if b := got["bomb"]; b.Status != certcheck.StatusInvalid || !strings.Contains(b.Reason, "iterations") {
			t.Errorf("bomb profile: status %q reason %q, want invalid naming the iterations", b.Status, b.Reason)
		}
	})
	p12test.Within(t, "an import", func() {
		_, err := m.Import(context.Background(), p12test.CostlyPKCS12(t), "", ImportOptions{})
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "iterations") {
			t.Errorf("Import = %v, want bad input naming the iterations", err)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	waitWatching(t, m)
	// Dropped while running: the watcher rescans it, the API still answers.
	writeProfileDir(t, dir, "bomb2", testNow, map[string][]byte{PKCS12File: p12test.CostlyPKCS12(t)})
	p12test.Within(t, "the API while a bomb is scanned", func() {
		for {
			if _, ok := byID(m.List(0))["bomb2"]; ok {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	cancel()
	p12test.Within(t, "shutdown", func() {
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// A scan stuck on one file does not hold the lock readers need: a reader
// gets the last picture while a slow parse runs, and Run stops promptly.
func TestSlowParseDoesNotBlockReaders(t *testing.T) {
	dir := t.TempDir()
	writeProfileDir(t, dir, "good", testNow, goodFiles(t, certSpec{}))
	m := newTestManager(t, dir, func(o *Options) { o.ParseTimeout = time.Hour })
	if len(m.List(0)) != 1 {
		t.Fatal("first scan")
	}
	m.scanMu.Lock() // a scan in progress
	p12test.Within(t, "a read during a scan", func() {
		if got := m.List(0); len(got) != 1 {
			t.Errorf("List during a scan = %d profiles, want the last picture (1)", len(got))
		}
		_ = m.Status(0)
	})
	m.scanMu.Unlock()
}
