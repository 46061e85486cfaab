package app

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentclient"
	"github.com/entitle/entitle/tray/model"
)

// menus records what Run renders (the real renderer needs a desktop; the
// tray binary is driven over D-Bus in tray/e2e).
type menus struct {
	mu  sync.Mutex
	all []model.Menu
}

func (m *menus) Render(x model.Menu) { m.mu.Lock(); m.all = append(m.all, x); m.mu.Unlock() }
func (m *menus) status() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.all) == 0 {
		return ""
	}
	return m.all[len(m.all)-1].Items[0].Label
}

type noOpen struct{}

func (noOpen) OpenURL(context.Context, string) error    { return errors.New("unexpected") }
func (noOpen) OpenFolder(context.Context, string) error { return errors.New("unexpected") }

func TestNewValidates(t *testing.T) {
	dial := func() (Agent, error) { return nil, agentclient.ErrAgentNotRunning }
	for _, o := range []Options{{}, {Dial: dial}, {Dial: dial, Renderer: &menus{}}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func TestRunWithoutAgentAndQuit(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"not running", agentclient.ErrAgentNotRunning, "Agent not running"},
		{"other failure", errors.New("token file is not hexadecimal"), "Cannot talk to the agent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			dials := 0
			r := &menus{}
			a, err := New(Options{
				Dial: func() (Agent, error) {
					mu.Lock()
					dials++
					mu.Unlock()
					return nil, tc.err
				},
				Renderer: r, Opener: noOpen{}, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- a.Run(context.Background()) }()
			deadline := time.Now().Add(5 * time.Second)
			for {
				mu.Lock()
				n := dials
				mu.Unlock()
				if r.status() == tc.want && n >= 3 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("status %q after %d dials", r.status(), n)
				}
				time.Sleep(10 * time.Millisecond)
			}
			// Clicks that need the agent are ignored; Quit ends Run.
			a.Click(model.ActionCheck)
			a.Click(model.ActionDeactivateConfirm)
			a.Click(model.ActionQuit)
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return after Quit")
			}
		})
	}
}
