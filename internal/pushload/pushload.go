// Package pushload simulates many online agents against a real licensing
// server, speaking the real protocol: each activates, holds its push stream
// (GET /v1/device/stream), and on every "check in now" checks in, runs the
// commands it receives at once and reports their outcomes in a second
// check-in. It measures, per command, the time from queuing to the server
// having the outcome. The benchmarks of remote management use it
// (server/e2e BenchmarkPushLatency, `make bench`).
package pushload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/sse"
)

// Fleet is a set of simulated agents on one server.
type Fleet struct {
	Base   string // the server, http://host:port
	Client *http.Client
	Agents []*Agent

	mu    sync.Mutex
	acked map[string]time.Time // command id -> when its outcome was accepted
	ackCh chan string
}

// Agent is one simulated computer.
type Agent struct {
	ID, Credential, Fingerprint string
	fleet                       *Fleet
}

// New returns an empty fleet against base.
func New(base string) *Fleet {
	tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 0, IdleConnTimeout: time.Minute}
	return &Fleet{Base: base, Client: &http.Client{Transport: tr}, acked: map[string]time.Time{}, ackCh: make(chan string, 1<<16)}
}

// Post sends one JSON request and decodes the answer into out.
func (f *Fleet) Post(ctx context.Context, path, bearer string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.Base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, b)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return nil
}

// Activate activates n agents on the license key, with parallel requests.
func (f *Fleet) Activate(ctx context.Context, key string, n, parallel int) error {
	agents := make([]*Agent, n)
	errs := make(chan error, parallel)
	var wg sync.WaitGroup
	next := make(chan int)
	for range parallel {
		wg.Go(func() {
			for i := range next {
				sum := sha256.Sum256(fmt.Appendf(nil, "pushload-%d", i))
				fp := hex.EncodeToString(sum[:])
				var resp protocol.ActivateResponse
				err := f.Post(ctx, protocol.PathActivations, "", protocol.ActivateRequest{Method: protocol.MethodLicenseKey, LicenseKey: key,
					Fingerprint: fp, Product: "pushload", Device: protocol.DeviceFacts{Hostname: fmt.Sprintf("sim-%d", i), OS: "linux"}}, &resp)
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				agents[i] = &Agent{ID: resp.DeviceID, Credential: resp.Credential, Fingerprint: fp, fleet: f}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	f.Agents = append(f.Agents, agents...)
	return nil
}

// Connect opens every agent's stream and returns once all are ready; the
// streams live until ctx ends.
func (f *Fleet) Connect(ctx context.Context, parallel int) error {
	ready := make(chan error, len(f.Agents))
	sem := make(chan struct{}, parallel)
	for _, a := range f.Agents {
		sem <- struct{}{}
		go func() {
			a.hold(ctx, func(err error) { <-sem; ready <- err })
		}()
	}
	for range f.Agents {
		if err := <-ready; err != nil {
			return err
		}
	}
	return nil
}

// hold keeps a's stream; once is called when it is ready (or failed).
func (a *Agent) hold(ctx context.Context, once func(error)) {
	var done sync.Once
	signal := func(err error) { done.Do(func() { once(err) }) }
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.fleet.Base+protocol.PathDeviceStream, nil)
	req.Header.Set("Authorization", "Bearer "+a.Credential)
	resp, err := a.fleet.Client.Do(req)
	if err != nil {
		signal(err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		signal(fmt.Errorf("stream: HTTP %d", resp.StatusCode))
		return
	}
	err = sse.Parse(resp.Body, func(ev sse.Event) error {
		switch ev.Name {
		case protocol.StreamEventReady:
			signal(nil)
		case protocol.StreamEventCheckin:
			go a.checkin(ctx)
		}
		return nil
	})
	signal(fmt.Errorf("stream ended: %v", err))
}

// checkin pulls the commands, runs them (instantly) and reports them.
func (a *Agent) checkin(ctx context.Context) {
	var resp protocol.CheckinResponse
	req := protocol.CheckinRequest{Fingerprint: a.Fingerprint}
	if err := a.fleet.Post(ctx, protocol.PathCheckin, a.Credential, req, &resp); err != nil || len(resp.Commands) == 0 {
		return
	}
	for _, c := range resp.Commands {
		req.CommandResults = append(req.CommandResults, protocol.CommandResult{ID: c.ID, Status: protocol.CommandSucceeded})
	}
	if err := a.fleet.Post(ctx, protocol.PathCheckin, a.Credential, req, &resp); err != nil {
		return
	}
	now := time.Now()
	a.fleet.mu.Lock()
	for _, r := range req.CommandResults {
		if _, ok := a.fleet.acked[r.ID]; !ok {
			a.fleet.acked[r.ID] = now
			select {
			case a.fleet.ackCh <- r.ID:
			default:
			}
		}
	}
	a.fleet.mu.Unlock()
}

// Acked returns when command id was acknowledged, if it was.
func (f *Fleet) Acked(id string) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.acked[id]
	return t, ok
}

// WaitAcked waits until every id is acknowledged or ctx ends.
func (f *Fleet) WaitAcked(ctx context.Context, ids []string) error {
	for {
		missing := 0
		for _, id := range ids {
			if _, ok := f.Acked(id); !ok {
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d commands not acknowledged: %w", missing, len(ids), ctx.Err())
		case <-f.ackCh:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Percentile returns the p-th percentile (0..100) of ds.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}
