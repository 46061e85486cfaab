package profiles

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/agent/profiles/certcheck"
	"github.com/entitle/entitle/pkg/agentapi"
)

// waitEvent reads events until one of type typ mentions substr.
func waitEvent(t *testing.T, ch <-chan agentapi.Event, typ, substr string) agentapi.Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("event channel closed")
			}
			if ev.Type == typ && strings.Contains(ev.Message, substr) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event about %q", typ, substr)
		}
	}
}

func TestWatchLifecycle(t *testing.T) {
	dir := t.TempDir()
	m := newTestManager(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := m.Subscribe(ctx)
	runManager(t, m)
	waitWatching(t, m)

	// Created by hand.
	writeProfileDir(t, dir, "p1", testNow, goodFiles(t, certSpec{}))
	waitEvent(t, events, agentapi.EventProfileAdded, "(p1)")
	select {
	case <-m.Changes():
	case <-time.After(2 * time.Second):
		t.Fatal("no Changes signal")
	}
	if got := byID(m.List(0))["p1"]; got.Status != certcheck.StatusValid {
		t.Fatalf("p1 %+v", got)
	}

	// Modified in place: the certificate becomes an expiring one.
	k := newKey(t)
	if err := os.WriteFile(filepath.Join(dir, "p1", CertFile), certPEM(makeCert(t, k, certSpec{notAfter: testNow.Add(5 * 24 * time.Hour)})), 0o644); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, agentapi.EventProfileChanged, "(p1)")
	// Atomic save by rename of the matching key: the profile becomes usable again.
	tmp := filepath.Join(dir, "p1", ".key.pem.tmp")
	if err := os.WriteFile(tmp, keyPEM(t, k), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "p1", KeyFile)); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, agentapi.EventCertExpiring, "(p1)")
	if got := byID(m.List(0))["p1"]; got.Status != certcheck.StatusExpiring {
		t.Fatalf("after rename save: %+v", got)
	}

	// The default file changed by hand.
	writeProfileDir(t, dir, "p2", testNow.Add(time.Hour), goodFiles(t, certSpec{}))
	waitEvent(t, events, agentapi.EventProfileAdded, "(p2)")
	if err := writeFileAtomic(filepath.Join(dir, DefaultFile), []byte("p2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, agentapi.EventProfileChanged, "(p2)")
	if d := defaults(m.List(0)); len(d) != 1 || d[0] != "p2" {
		t.Fatalf("defaults %v", d)
	}

	// Deleted.
	if err := os.RemoveAll(filepath.Join(dir, "p1")); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, agentapi.EventProfileRemoved, "(p1)")

	// The whole folder removed, then recreated.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, agentapi.EventProfileRemoved, "(p2)")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeProfileDir(t, dir, "p3", testNow, goodFiles(t, certSpec{}))
	waitEvent(t, events, agentapi.EventProfileAdded, "(p3)")
	waitWatching(t, m)
	// And changes inside it are seen again.
	if err := os.WriteFile(filepath.Join(dir, "p3", CertFile), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, agentapi.EventProfileChanged, "(p3)")
	if got := byID(m.List(0))["p3"]; got.Status != certcheck.StatusInvalid {
		t.Fatalf("p3 %+v", got)
	}
}

func TestWatchBurst(t *testing.T) {
	dir := t.TempDir()
	m := newTestManager(t, dir)
	runManager(t, m)
	waitWatching(t, m)
	const profilesN = 250 // 4 files each: 1,000 files
	files := make([]map[string][]byte, profilesN)
	for i := range files {
		files[i] = goodFiles(t, certSpec{})
		files[i]["notes.txt"] = []byte("ignored")
	}
	for i, f := range files {
		writeProfileDir(t, dir, fmt.Sprintf("burst-%03d", i), testNow, f)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		list := m.List(0)
		valid := 0
		for _, p := range list {
			if p.Status == certcheck.StatusValid {
				valid++
			}
		}
		if valid == profilesN {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d profiles seen valid", valid, profilesN)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	dir := t.TempDir()
	m := newTestManager(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	slow := m.Subscribe(ctx) // never read
	_ = slow
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range subscriberBuffer * 3 {
			writeProfileDir(t, dir, fmt.Sprintf("s%03d", i), testNow, map[string][]byte{CertFile: []byte("x")})
			m.refresh(context.Background(), []string{fmt.Sprintf("s%03d", i)}, false)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("publishing blocked on a slow subscriber")
	}
	cancel()
	n := 0
	for range slow { // closed after cancel; holds at most the buffer
		n++
	}
	if n != subscriberBuffer {
		t.Errorf("slow subscriber got %d events, want the %d buffered", n, subscriberBuffer)
	}
}

func TestWatchFolderCreatedLater(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing-parent", "profiles")
	m := newTestManager(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := m.Subscribe(ctx)
	runManager(t, m)
	time.Sleep(150 * time.Millisecond) // at least one retry while nothing exists
	if m.Watching() {
		t.Fatal("watching a folder that does not exist")
	}
	writeProfileDir(t, dir, "late", testNow, goodFiles(t, certSpec{})) // creates parent and folder
	waitEvent(t, events, agentapi.EventProfileAdded, "(late)")
	waitWatching(t, m)
}
