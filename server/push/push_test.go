package push_test

import (
	"context"
	"testing"
	"time"

	"github.com/entitle/entitle/server/push"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func waitNudge(t *testing.T, s *push.Sub, want bool) {
	t.Helper()
	wait := 5 * time.Second
	if !want {
		wait = 200 * time.Millisecond
	}
	select {
	case _, ok := <-s.C:
		if !want || !ok {
			t.Fatalf("unexpected nudge (open=%v)", ok)
		}
	case <-time.After(wait):
		if want {
			t.Fatal("no nudge")
		}
	}
}

func runHub(t *testing.T, h *push.Hub) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for !h.Listening() {
		if time.Now().After(deadline) {
			t.Fatal("hub never listened")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestInProcess(t *testing.T) {
	h := push.New(storetest.Open(t, store.SQLite), nil)
	runHub(t, h)
	a, err := h.Subscribe("dev_a")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h.Subscribe("dev_b")
	h.Notify(context.Background(), "dev_a")
	waitNudge(t, a, true)
	waitNudge(t, b, false)
	// Nudges coalesce: two before a read are one.
	h.Notify(context.Background(), "dev_b")
	h.Notify(context.Background(), "dev_b")
	waitNudge(t, b, true)
	waitNudge(t, b, false)
	if h.Connected() != 2 {
		t.Fatalf("connected %d", h.Connected())
	}
	a.Close()
	a.Close() // twice is harmless
	if h.Connected() != 1 {
		t.Fatalf("connected %d after close", h.Connected())
	}
}

func TestStreamsPerDeviceBounded(t *testing.T) {
	h := push.New(nil, nil)
	for i := 0; i < push.MaxStreamsPerDevice; i++ {
		if _, err := h.Subscribe("dev_a"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Subscribe("dev_a"); err != push.ErrTooMany {
		t.Fatalf("over the bound: %v", err)
	}
}

// The hub closes every stream when Run ends (the server stops), and refuses
// new ones.
func TestCloseEndsStreams(t *testing.T) {
	h := push.New(nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	s, _ := h.Subscribe("dev_a")
	cancel()
	<-done
	if _, ok := <-s.C; ok {
		t.Fatal("stream still open after the hub stopped")
	}
	s.Close() // after the hub closed it: harmless
	if _, err := h.Subscribe("dev_a"); err != push.ErrClosed {
		t.Fatalf("subscribe after close: %v", err)
	}
}

// Two server instances on one PostgreSQL database: a nudge sent through
// instance A reaches a stream held by instance B.
func TestAcrossInstances(t *testing.T) {
	dsn := storetest.DSN(t, store.Postgres)
	open := func() *store.DB {
		db, err := store.Open(context.Background(), dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := push.New(open(), nil), push.New(open(), nil)
	runHub(t, a)
	runHub(t, b)
	onB, err := b.Subscribe("dev_1")
	if err != nil {
		t.Fatal(err)
	}
	onA, _ := a.Subscribe("dev_2")
	a.Notify(context.Background(), "dev_1")
	waitNudge(t, onB, true)
	waitNudge(t, onA, false)
	b.Notify(context.Background(), "dev_2")
	waitNudge(t, onA, true)
}
