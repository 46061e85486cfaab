package profiles

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entitle/entitle/agent/profiles/certcheck"
)

// Issue 13 item 7: which profile the plan's limit leaves out is decided by
// a documented, deterministic order (default first, then creation time to
// the nanosecond, then id), and the usable count is what a signing app can
// use.
func TestPlanLimitOrderIsDeterministic(t *testing.T) {
	ctx := context.Background()
	var tick atomic.Int64
	m := newTestManager(t, t.TempDir(), func(o *Options) {
		// Every profile is created within the same second.
		o.Now = func() time.Time { return testNow.Add(time.Duration(tick.Add(1)) * time.Nanosecond) }
	})
	var order []string
	for _, n := range []string{"A", "B", "C", "D", "E"} {
		p, err := m.Create(ctx, CreateRequest{Owner: "Jeanne", Name: n})
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, p.ID)
	}
	if err := m.SetDefault(ctx, order[3]); err != nil { // D
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		m.Rescan()
		list := m.List(2)
		licensed := map[string]bool{}
		for _, p := range list {
			licensed[p.ID] = p.Licensed
		}
		// D (default) then A (oldest) are licensed; B, C, E are not,
		// whatever their random ids.
		want := map[string]bool{order[3]: true, order[0]: true, order[1]: false, order[2]: false, order[4]: false}
		for id, w := range want {
			if licensed[id] != w {
				t.Fatalf("round %d: profile %s licensed=%v, want %v (list %+v)", round, id, licensed[id], w, list)
			}
		}
		if list[0].ID != order[3] || list[1].ID != order[0] || list[2].ID != order[1] {
			t.Fatalf("round %d: order %s %s %s, want default, then by creation", round, list[0].ID, list[1].ID, list[2].ID)
		}
	}
	st := m.Status(2)
	if st.Count != 5 || st.Unlicensed != 3 || st.Usable != 2 {
		t.Errorf("status count %d unlicensed %d usable %d, want 5, 3, 2", st.Count, st.Unlicensed, st.Usable)
	}
	// An invalid profile does not count as usable, and takes no place.
	writeProfileDir(t, m.Dir(), "broken", testNow.Add(-time.Hour), map[string][]byte{CertFile: []byte("junk")})
	m.Rescan()
	if st := m.Status(0); st.Usable != 5 || st.Invalid != 1 || st.Count != 6 {
		t.Errorf("with an invalid profile: usable %d invalid %d count %d, want 5 1 6", st.Usable, st.Invalid, st.Count)
	}
	// Creating past the limit answers the unlicensed status and reason.
	m2 := newTestManager(t, t.TempDir(), func(o *Options) { o.PlanLimit = func() int { return 1 } })
	if _, err := m2.Create(ctx, CreateRequest{Owner: "J", Name: "One"}); err != nil {
		t.Fatal(err)
	}
	p, err := m2.Create(ctx, CreateRequest{Owner: "J", Name: "Two"})
	if err != nil || p.Status != certcheck.StatusUnlicensed || p.Reason == "" {
		t.Fatalf("create past the limit: %+v %v, want status unlicensed with a reason", p, err)
	}
}
