package profiles

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch timings.
const (
	retryMin   = 100 * time.Millisecond
	retryMax   = 5 * time.Second
	checkEvery = time.Hour // re-evaluate expiry dates without file changes
)

// watcher is the state of one Run.
type watcher struct {
	m        *Manager
	ctx      context.Context // Run's: ends the scans when Run stops
	w        *fsnotify.Watcher
	parent   string
	attached bool
	capped   bool // the watch limit was hit once (logged once)

	pending map[string]bool
	full    bool
	first   time.Time
	timer   *time.Timer
	armed   bool

	retry     *time.Timer
	retryWait time.Duration
}

// Run watches the folder until ctx ends. It rescans only the profiles
// whose files changed, coalescing bursts (Options.Debounce, bounded by
// Options.MaxDelay), and survives the folder being deleted and recreated
// by also watching its parent and retrying with bounded backoff.
func (m *Manager) Run(ctx context.Context) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("profiles: watch: %w", err)
	}
	defer fw.Close()
	defer m.watching.Store(false)
	wt := &watcher{
		m: m, ctx: ctx, w: fw, parent: filepath.Dir(m.dir), pending: map[string]bool{},
		timer: stoppedTimer(), retry: stoppedTimer(), retryWait: retryMin,
	}
	defer wt.timer.Stop()
	defer wt.retry.Stop()
	if err := fw.Add(wt.parent); err != nil {
		m.log.Debug("profiles: cannot watch the parent folder yet", "folder", wt.parent, "err", err)
	}
	wt.attach()
	tick := time.NewTicker(checkEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return errors.New("profiles: watcher closed")
			}
			wt.handle(ev)
		case err, ok := <-fw.Errors:
			if !ok {
				return errors.New("profiles: watcher closed")
			}
			m.log.Warn("profiles: watch error, rescanning everything", "err", err)
			wt.full = true
			wt.arm()
		case <-wt.timer.C:
			wt.armed = false
			wt.flush()
		case <-wt.retry.C:
			if !wt.attached {
				_ = fw.Add(wt.parent)
				wt.attach()
			}
		case <-tick.C:
			m.CheckTime()
		}
	}
}

func stoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// attach watches the folder and every profile subfolder, then rescans
// everything (so nothing created before the watches were added is missed).
// When the folder is missing it schedules a retry with backoff.
func (wt *watcher) attach() {
	m := wt.m
	if err := wt.w.Add(m.dir); err != nil {
		wt.attached = false
		m.watching.Store(false)
		m.refresh(wt.ctx, nil, true)
		wt.retry.Reset(wt.retryWait)
		wt.retryWait = min(wt.retryWait*2, retryMax)
		return
	}
	wt.attached, wt.retryWait = true, retryMin
	entries, err := os.ReadDir(m.dir)
	if err == nil {
		for i, e := range entries {
			if i >= m.opts.MaxScan {
				break
			}
			if e.IsDir() && !skipName(e.Name()) {
				wt.add(filepath.Join(m.dir, e.Name()))
			}
		}
	}
	m.refresh(wt.ctx, nil, true)
	m.watching.Store(true)
}

// add watches one profile subfolder (never through a symbolic link).
func (wt *watcher) add(path string) {
	st, err := os.Lstat(path)
	if err != nil || !st.IsDir() {
		return
	}
	if err := wt.w.Add(path); err != nil && !wt.capped {
		wt.capped = true
		wt.m.log.Warn("profiles: cannot watch every profile folder; changes inside some are seen on the next full rescan", "err", err)
	}
}

func (wt *watcher) handle(ev fsnotify.Event) {
	m := wt.m
	if ev.Op == fsnotify.Chmod {
		return
	}
	name := filepath.Clean(ev.Name)
	if name == m.dir {
		switch {
		case ev.Has(fsnotify.Create):
			if !wt.attached {
				wt.attach()
			}
		case ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename):
			if wt.attached {
				_ = wt.w.Remove(m.dir) // a moved folder would keep reporting under the old name
				wt.attached = false
				m.watching.Store(false)
				m.log.Info("profiles: the profile folder disappeared; waiting for it", "folder", m.dir)
			}
			wt.full = true
			wt.arm()
			wt.retry.Reset(retryMin)
		}
		return
	}
	rel, err := filepath.Rel(m.dir, name)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return // a sibling in the parent folder
	}
	top, rest, _ := strings.Cut(rel, string(filepath.Separator))
	if skipName(top) {
		if top == DefaultFile {
			wt.arm() // the default file is reread on every flush
		}
		return
	}
	if rest == "" && ev.Has(fsnotify.Create) {
		wt.add(name)
	}
	wt.pending[top] = true
	wt.arm()
}

// arm schedules a flush: Debounce after the latest event, but no later
// than MaxDelay after the first pending one.
func (wt *watcher) arm() {
	now := time.Now()
	if !wt.armed {
		wt.first = now
	}
	wait := min(wt.m.opts.Debounce, wt.first.Add(wt.m.opts.MaxDelay).Sub(now))
	wt.timer.Reset(max(wait, 0))
	wt.armed = true
}

func (wt *watcher) flush() {
	if wt.full {
		wt.m.refresh(wt.ctx, nil, true)
	} else {
		dirs := make([]string, 0, len(wt.pending))
		for d := range wt.pending {
			dirs = append(dirs, d)
		}
		wt.m.refresh(wt.ctx, dirs, false)
	}
	wt.full = false
	clear(wt.pending)
}
