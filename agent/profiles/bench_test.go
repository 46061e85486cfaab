package profiles

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

// BenchmarkFullScan10k scans a folder of 10,000 profiles (target < 1 s):
// "cold" is a new Manager's first scan (parsing every certificate and key),
// "rescan" a full rescan where unchanged profiles reuse their parse. Both
// wall-clock and CPU milliseconds are reported: on a shared machine the
// wall clock mostly measures the neighbours.
func BenchmarkFullScan10k(b *testing.B) {
	const n = 10_000
	dir := b.TempDir()
	files := goodFiles(b, certSpec{})
	shared := b.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(shared, name), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		id := fmt.Sprintf("p%05d", i)
		writeProfileDir(b, dir, id, testNow.Add(time.Duration(i)*time.Second), map[string][]byte{})
		for name := range files { // hard links: the fixture is built fast
			if err := os.Link(filepath.Join(shared, name), filepath.Join(dir, id, name)); err != nil {
				b.Fatal(err)
			}
		}
	}
	measure := func(b *testing.B, scan func()) {
		var wall, cpu time.Duration
		for b.Loop() {
			c0, t0 := cpuTime(b), time.Now()
			scan()
			wall += time.Since(t0)
			cpu += cpuTime(b) - c0
		}
		b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "ms/scan")
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/scan")
	}
	check := func(b *testing.B, m *Manager) {
		if got := m.Summary(0); got.Total != n || got.Valid != n {
			b.Fatalf("summary %+v", got)
		}
	}
	b.Run("cold", func(b *testing.B) {
		measure(b, func() {
			m := newTestManager(b, dir, func(o *Options) { o.Logger = nil })
			m.Rescan()
			b.StopTimer()
			check(b, m)
			b.StartTimer()
		})
	})
	b.Run("rescan", func(b *testing.B) {
		m := newTestManager(b, dir, func(o *Options) { o.Logger = nil })
		m.Rescan()
		check(b, m)
		measure(b, m.Rescan)
	})
}

// BenchmarkWriteToVisible measures a profile file written on disk until the
// change is visible through the Manager, including coalescing (target < 250 ms).
func BenchmarkWriteToVisible(b *testing.B) {
	dir := b.TempDir()
	m := newTestManager(b, dir, func(o *Options) { o.Logger = nil })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := m.Subscribe(ctx)
	runManager(b, m)
	waitWatching(b, m)
	files := goodFiles(b, certSpec{})
	var total time.Duration
	i := 0
	for b.Loop() {
		id := fmt.Sprintf("w%06d", i)
		i++
		start := time.Now()
		writeProfileDir(b, dir, id, testNow, map[string][]byte{CertFile: files[CertFile], KeyFile: files[KeyFile]})
		want := "(" + id + ")"
		for seen := false; !seen; {
			select {
			case ev := <-events:
				seen = ev.Type == agentapi.EventProfileAdded && ev.Message[len(ev.Message)-len(want)-len(" added"):len(ev.Message)-len(" added")] == want
			case <-time.After(5 * time.Second):
				b.Fatalf("%s never became visible", id)
			}
		}
		total += time.Since(start)
		if err := os.RemoveAll(filepath.Join(dir, id)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/visible")
}
