package profiles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/entitle/entitle/agent/profiles/certcheck"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
)

// Errors returned (wrapped) by the Manager; the HTTP routes map them to
// agentapi error codes.
var (
	ErrNotFound = errors.New("profile not found")
	ErrConflict = errors.New("conflict")
	ErrBadInput = errors.New("bad input")
	// ErrNotForSigning (a bad input) refuses to import a certificate that
	// cannot sign documents unless ImportOptions.Force is set.
	ErrNotForSigning = fmt.Errorf("%w: the certificate cannot sign documents (import it anyway with force)", ErrBadInput)
	ErrWrongPassword = certcheck.ErrWrongPassword
	ErrLocked        = certcheck.ErrLocked
)

// Defaults of Options.
const (
	DefaultExpiringWithin = 30 * 24 * time.Hour
	DefaultMaxFileSize    = 1 << 20
	DefaultMaxScan        = 100_000
	DefaultDebounce       = 50 * time.Millisecond
	DefaultMaxDelay       = 200 * time.Millisecond
	// DefaultParseTimeout bounds the time one profile's files may take to
	// open (its PKCS#12 work is already bounded by
	// certcheck.MaxPKCS12Iterations; this is the last line of defence).
	DefaultParseTimeout = 10 * time.Second
	subscriberBuffer    = 64
	// ioParallelism is how many scanning goroutines run per CPU: a scan
	// waits on the disk more than it computes.
	ioParallelism = 8
)

// Options configure a Manager. Dir is required; the rest have defaults.
type Options struct {
	Dir            string           // the profile folder (Config.ProfileDir)
	Logger         *slog.Logger     // nil: discard
	Now            func() time.Time // nil: time.Now
	ExpiringWithin time.Duration    // a certificate ending within this is "expiring"
	MaxFileSize    int64            // larger files are not read
	MaxScan        int              // at most this many profile folders are scanned
	Debounce       time.Duration    // quiet time before a burst of changes is rescanned
	MaxDelay       time.Duration    // longest a change waits during a continuous stream
	// PlanLimit returns the plan's maximum number of profiles (<= 0: no
	// limit) for the HTTP routes; nil means no limit. The engine's
	// interface methods take the limit as an argument instead.
	PlanLimit func() int
	// ParseTimeout bounds the time one profile (or imported file) may take
	// to open; 0 means DefaultParseTimeout.
	ParseTimeout time.Duration
	// BundleWorkFactor is the scrypt work factor (log2 N) of exported
	// bundles; 0 means the age default. Tests lower it.
	BundleWorkFactor int
}

// Manager owns one profile folder. All methods are safe for concurrent use.
type Manager struct {
	opts Options
	dir  string
	log  *slog.Logger
	now  func() time.Time

	writeMu sync.Mutex // serializes changes to the folder
	// scanMu serializes scans. Files are read and parsed holding only
	// scanMu, never mu: readers keep the last picture while a scan runs.
	scanMu sync.Mutex

	mu        sync.RWMutex
	recs      map[string]*record // by subfolder name
	defaultID string             // content of the default file
	loaded    bool
	truncated bool                            // more folders than MaxScan
	loose     map[string]agentapi.NotAProfile // root files that are not profiles, by name
	expiring  map[string]bool

	watching atomic.Bool // Run has watches on the folder

	subsMu  sync.Mutex
	subs    map[chan agentapi.Event]struct{}
	changes chan struct{}
}

// New returns a Manager of opts.Dir. The folder need not exist yet.
func New(opts Options) (*Manager, error) {
	if opts.Dir == "" {
		return nil, errors.New("profiles: no profile folder given")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("profiles: folder %s: %w", opts.Dir, err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ExpiringWithin <= 0 {
		opts.ExpiringWithin = DefaultExpiringWithin
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	if opts.MaxScan <= 0 {
		opts.MaxScan = DefaultMaxScan
	}
	if opts.ParseTimeout <= 0 {
		opts.ParseTimeout = DefaultParseTimeout
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.MaxDelay < opts.Debounce {
		opts.MaxDelay = max(DefaultMaxDelay, opts.Debounce)
	}
	return &Manager{
		opts: opts, dir: dir, log: opts.Logger, now: opts.Now,
		recs:     map[string]*record{},
		expiring: map[string]bool{},
		subs:     map[chan agentapi.Event]struct{}{},
		changes:  make(chan struct{}, 1),
	}, nil
}

// Watching reports whether Run currently watches the folder (false before
// Run, while the folder is missing, and after Run returns).
func (m *Manager) Watching() bool { return m.watching.Load() }

// Dir returns the absolute profile folder.
func (m *Manager) Dir() string { return m.dir }

// Changes returns a channel that receives a value (coalesced: at most one
// pending) whenever the profiles change. It is meant for one consumer, the
// engine; others use Subscribe.
func (m *Manager) Changes() <-chan struct{} { return m.changes }

// Subscribe returns a channel of profile events until ctx ends, when it is
// closed. A subscriber that does not keep up loses events rather than
// slowing the Manager down.
func (m *Manager) Subscribe(ctx context.Context) <-chan agentapi.Event {
	ch := make(chan agentapi.Event, subscriberBuffer)
	m.subsMu.Lock()
	m.subs[ch] = struct{}{}
	m.subsMu.Unlock()
	context.AfterFunc(ctx, func() {
		m.subsMu.Lock()
		delete(m.subs, ch)
		close(ch)
		m.subsMu.Unlock()
	})
	return ch
}

func (m *Manager) publish(evs []agentapi.Event) {
	if len(evs) == 0 {
		return
	}
	m.subsMu.Lock()
	for ch := range m.subs {
		for _, ev := range evs {
			select {
			case ch <- ev:
			default:
				m.log.Debug("profiles: slow subscriber, event dropped", "type", ev.Type)
			}
		}
	}
	m.subsMu.Unlock()
	select {
	case m.changes <- struct{}{}:
	default:
	}
}

// List returns every profile, default first, then by creation time.
// maxProfiles is the plan's limit (<= 0: no limit).
func (m *Manager) List(maxProfiles int) []agentapi.ProfileInfo {
	return m.view(maxProfiles).infos
}

// Get returns one profile by id.
func (m *Manager) Get(id string, maxProfiles int) (agentapi.ProfileInfo, error) {
	_, info, ok := m.view(maxProfiles).find(id)
	if !ok {
		return agentapi.ProfileInfo{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return info, nil
}

// Status summarizes the folder for GET /v1/status.
func (m *Manager) Status(maxProfiles int) agentapi.ProfilesStatus {
	v := m.view(maxProfiles)
	s := v.status(m.dir)
	s.NotProfiles = m.Loose()
	for _, l := range s.NotProfiles {
		w := fmt.Sprintf("%s at the profile folder root is not a profile: %s", l.Name, l.Reason)
		if l.Command != "" {
			w += " (" + l.Command + ")"
		}
		s.Warnings = appendWarning(s.Warnings, w)
	}
	m.mu.RLock()
	if m.truncated {
		s.Warnings = append(s.Warnings, fmt.Sprintf("more than %d profile folders: the rest are ignored", m.opts.MaxScan))
	}
	m.mu.RUnlock()
	return s
}

// Summary is the inventory reported to the licensing server.
func (m *Manager) Summary(maxProfiles int) protocol.ProfileSummary {
	return m.view(maxProfiles).summary()
}

func (m *Manager) view(maxProfiles int) view {
	m.ensureLoaded()
	m.mu.RLock()
	defer m.mu.RUnlock()
	return buildView(m.recs, m.defaultID, m.now(), m.opts.ExpiringWithin, maxProfiles)
}

func (m *Manager) ensureLoaded() {
	m.mu.RLock()
	loaded := m.loaded
	m.mu.RUnlock()
	if !loaded {
		m.refresh(context.Background(), nil, true)
	}
}

// Rescan reads the whole folder again and publishes what changed.
func (m *Manager) Rescan() { m.refresh(context.Background(), nil, true) }

// refresh rescans the named subfolders (or everything when full), rereads
// the default file, and publishes events for what changed. Files are read
// and parsed outside mu; an interrupted scan (ctx ended) changes nothing.
func (m *Manager) refresh(ctx context.Context, dirs []string, full bool) {
	m.scanMu.Lock()
	defer m.scanMu.Unlock()
	m.mu.RLock()
	prev, loaded, truncated, prevLoose := m.recs, m.loaded, m.truncated, m.loose
	m.mu.RUnlock()
	var (
		recs  map[string]*record
		loose map[string]agentapi.NotAProfile
	)
	if full || !loaded {
		recs, loose, truncated = m.scanAll(ctx, prev)
	} else {
		recs = make(map[string]*record, len(prev)+len(dirs))
		for n, r := range prev {
			recs[n] = r
		}
		loose = make(map[string]agentapi.NotAProfile, len(prevLoose))
		for n, l := range prevLoose {
			loose[n] = l
		}
		for _, d := range dirs {
			truncated = m.rescanOne(ctx, recs, d) || truncated
			m.rescanLoose(loose, d)
		}
	}
	if ctx.Err() != nil {
		return
	}
	deflt := m.readDefault()
	m.mu.Lock()
	before := buildView(m.recs, m.defaultID, m.now(), m.opts.ExpiringWithin, 0)
	m.recs, m.loose, m.truncated, m.loaded, m.defaultID = recs, loose, truncated, true, deflt
	after := buildView(m.recs, m.defaultID, m.now(), m.opts.ExpiringWithin, 0)
	evs := m.diff(before, after)
	m.mu.Unlock()
	m.publish(evs)
}

// rescanOne reads one subfolder into recs; it reports whether the MaxScan
// bound refused it.
func (m *Manager) rescanOne(ctx context.Context, recs map[string]*record, name string) bool {
	if skipName(name) {
		return false
	}
	if _, known := recs[name]; !known && len(recs) >= m.opts.MaxScan {
		return true
	}
	if r := scanProfile(ctx, m.dir, name, m.opts.MaxFileSize, m.opts.ParseTimeout, recs[name]); r != nil {
		recs[name] = r
	} else if ctx.Err() == nil {
		delete(recs, name)
	}
	return false
}

// skipName tells which root entries are not profiles: hidden or temporary
// names, and the default file.
func skipName(name string) bool {
	return name == "" || name == DefaultFile || strings.HasPrefix(name, ".") ||
		strings.ContainsAny(name, `/\`)
}

// scanAll reads every profile subfolder, in parallel, reusing the records
// of prev whose files did not change.
func (m *Manager) scanAll(ctx context.Context, prev map[string]*record) (map[string]*record, map[string]agentapi.NotAProfile, bool) {
	recs := map[string]*record{}
	loose := map[string]agentapi.NotAProfile{}
	f, err := os.Open(m.dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			m.log.Warn("profiles: cannot read the profile folder", "folder", m.dir, "err", err)
		}
		return recs, loose, false
	}
	defer f.Close()
	var names []string
	truncated := false
	for {
		batch, err := f.ReadDir(1024)
		for _, e := range batch {
			if isLoose(e) && len(loose) < maxLoose {
				loose[e.Name()] = looseEntry(filepath.Join(m.dir, e.Name()), e.Name())
			}
			if skipName(e.Name()) || !(e.IsDir() || e.Type()&fs.ModeSymlink != 0) {
				continue
			}
			if len(names) >= m.opts.MaxScan {
				truncated = true
				break
			}
			names = append(names, e.Name())
		}
		if err != nil || truncated {
			break
		}
	}
	workers := max(1, runtime.GOMAXPROCS(0)) * ioParallelism
	out := make([]*record, len(names))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(names) && ctx.Err() == nil; i += workers {
				out[i] = scanProfile(ctx, m.dir, names[i], m.opts.MaxFileSize, m.opts.ParseTimeout, prev[names[i]])
			}
		})
	}
	wg.Wait()
	for _, r := range out {
		if r != nil {
			recs[r.dir] = r
		}
	}
	return recs, loose, truncated
}

// readDefault returns the id in the default file, or "".
func (m *Manager) readDefault() string {
	b, err := readBounded(filepath.Join(m.dir, DefaultFile), 256)
	if err != nil {
		return ""
	}
	id := strings.TrimSpace(string(b))
	if !ValidID(id) {
		return ""
	}
	return id
}

// diff turns two views into events, and tracks certificates entering the
// expiring window.
func (m *Manager) diff(before, after view) []agentapi.Event {
	now := m.now()
	old := make(map[string]int, len(before.infos))
	for i, info := range before.infos {
		old[info.ID] = i
	}
	var evs []agentapi.Event
	ev := func(typ, format string, args ...any) {
		evs = append(evs, agentapi.Event{Type: typ, Time: now, Message: fmt.Sprintf(format, args...)})
	}
	seen := make(map[string]bool, len(after.infos))
	for i, info := range after.infos {
		seen[info.ID] = true
		j, was := old[info.ID]
		switch {
		case !was:
			ev(agentapi.EventProfileAdded, "profile %q (%s) added", info.Name, info.ID)
		case before.recs[j].digest != after.recs[i].digest || !sameInfo(before.infos[j], info):
			ev(agentapi.EventProfileChanged, "profile %q (%s) changed", info.Name, info.ID)
		}
		if info.Status == certcheck.StatusExpiring {
			if !m.expiring[info.ID] {
				m.expiring[info.ID] = true
				ev(agentapi.EventCertExpiring, "the certificate of profile %q (%s) %s", info.Name, info.ID, info.Reason)
			}
		} else {
			delete(m.expiring, info.ID)
		}
	}
	for _, info := range before.infos {
		if !seen[info.ID] {
			delete(m.expiring, info.ID)
			ev(agentapi.EventProfileRemoved, "profile %q (%s) removed", info.Name, info.ID)
		}
	}
	return evs
}

func sameInfo(a, b agentapi.ProfileInfo) bool {
	if a.Status == certcheck.StatusInvalid && a.Reason != b.Reason {
		return false
	}
	return a.Name == b.Name && a.Owner == b.Owner && a.Default == b.Default &&
		a.Status == b.Status && a.HasKey == b.HasKey
}

// CheckTime re-evaluates time-dependent statuses (expiring, expired) and
// publishes what changed; Run calls it periodically.
func (m *Manager) CheckTime() {
	m.ensureLoaded()
	m.refresh(context.Background(), nil, false)
}
