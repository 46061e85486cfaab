package profiles

import (
	"context"
	"encoding/asn1"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/agent/profiles/certcheck"
)

// costlyPKCS12 is a 76-byte PKCS#12 file whose legacy SHA-1 MAC asks for
// 2^40 key-derivation rounds (issue 16: it kept the agent at 100% CPU).
func costlyPKCS12(t testing.TB) []byte {
	t.Helper()
	type algID struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue
	}
	type digestInfo struct {
		Algorithm algID
		Digest    []byte
	}
	type macData struct {
		Mac        digestInfo
		Salt       []byte
		Iterations int64
	}
	type contentInfo struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}
	type pfx struct {
		Version  int
		AuthSafe contentInfo
		MacData  macData
	}
	emptySafe, _ := asn1.Marshal([]contentInfo{})
	octets, _ := asn1.Marshal(emptySafe)
	der, err := asn1.Marshal(pfx{
		Version: 3,
		AuthSafe: contentInfo{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}, Content: asn1.RawValue{
			Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: octets}},
		MacData: macData{
			Mac:        digestInfo{Algorithm: algID{Algorithm: asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, Parameters: asn1.NullRawValue}, Digest: make([]byte, 20)},
			Salt:       make([]byte, 5),
			Iterations: 1 << 40,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(der) != 76 {
		t.Fatalf("crafted file is %d bytes, want 76", len(der))
	}
	return der
}

// hangGuard fails the test when f has not returned after a generous
// deadline: a hang, not a speed target.
func hangGuard(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s did not return: one file blocks the manager", what)
	}
}

// Issue 16: a 76-byte PKCS#12 asking for 2^40 rounds, in the folder or
// through import, must neither hang the scan, the API nor shutdown.
func TestCostlyPKCS12DoesNotStopTheManager(t *testing.T) {
	dir := t.TempDir()
	writeProfileDir(t, dir, "good", testNow.Add(-time.Hour), goodFiles(t, certSpec{}))
	writeProfileDir(t, dir, "bomb", testNow, map[string][]byte{PKCS12File: costlyPKCS12(t)})
	if err := os.WriteFile(filepath.Join(dir, "dropped.p12"), costlyPKCS12(t), 0o600); err != nil {
		t.Fatal(err)
	}
	m := newTestManager(t, dir)

	hangGuard(t, "the first scan", func() {
		got := byID(m.List(0))
		if got["good"].Status != certcheck.StatusValid {
			t.Errorf("good profile: %+v", got["good"])
		}
		if b := got["bomb"]; b.Status != certcheck.StatusInvalid || !strings.Contains(b.Reason, "iterations") {
			t.Errorf("bomb profile: status %q reason %q, want invalid naming the iterations", b.Status, b.Reason)
		}
	})
	hangGuard(t, "an import", func() {
		_, err := m.Import(context.Background(), costlyPKCS12(t), "", ImportOptions{})
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "iterations") {
			t.Errorf("Import = %v, want bad input naming the iterations", err)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	waitWatching(t, m)
	// Dropped while running: the watcher rescans it, the API still answers.
	writeProfileDir(t, dir, "bomb2", testNow, map[string][]byte{PKCS12File: costlyPKCS12(t)})
	hangGuard(t, "the API while a bomb is scanned", func() {
		for {
			if _, ok := byID(m.List(0))["bomb2"]; ok {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	cancel()
	hangGuard(t, "shutdown", func() {
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
	hangGuard(t, "a read during a scan", func() {
		if got := m.List(0); len(got) != 1 {
			t.Errorf("List during a scan = %d profiles, want the last picture (1)", len(got))
		}
		_ = m.Status(0)
	})
	m.scanMu.Unlock()
}
