package devices_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/devices"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// batchService is a second devices service on the fixture's database with
// its own batcher, closed when the test ends.
func batchService(t *testing.T, f *fixture, batch int, wait time.Duration) *devices.Service {
	t.Helper()
	s, err := devices.New(f.DB, f.Accounts, f.Signing, devices.Config{Now: f.Clock.Now, CheckinBatch: batch, CheckinWait: wait})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

type batchDevice struct {
	id, cred, machine string
}

func activateMany(t *testing.T, f *fixture, n int) []batchDevice {
	t.Helper()
	f.Account("owner@example.com")
	lic := f.License("owner@example.com", n, time.Time{})
	out := make([]batchDevice, n)
	for i := range out {
		m := fmt.Sprint("batch-", i)
		a := f.ActivateKey(lic.Key, fp(m))
		out[i] = batchDevice{id: a.DeviceID, cred: a.Credential, machine: m}
	}
	return out
}

// TestGroupCommitConcurrent runs many check-ins at once through the batcher:
// each gets its own device's lease, each device's check-in is recorded, and
// they shared transactions.
func TestGroupCommitConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, noChurnLimit)
		const n = 60
		devs := activateMany(t, f, n)
		svc := batchService(t, f, 16, 5*time.Millisecond)
		keys, err := f.Signing.Keys(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.Clock.Advance(time.Minute)
		const rounds = 3
		res, errs := concurrently(n*rounds, func(i int) (protocol.CheckinResponse, error) {
			dv := devs[i%n]
			return svc.Checkin(f.Ctx, dv.cred, protocol.CheckinRequest{Fingerprint: fp(dv.machine), Device: facts(fmt.Sprint("host-", i%n))})
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("check-in %d: %v", i, err)
			}
			dv := devs[i%n]
			c, err := lease.Verify(res[i].Lease, keys, fp(dv.machine), f.Clock.Now())
			if err != nil {
				t.Fatalf("check-in %d: lease: %v", i, err)
			}
			if c.DeviceID() != dv.id {
				t.Fatalf("check-in %d got the lease of %s, want %s", i, c.DeviceID(), dv.id)
			}
		}
		for i, dv := range devs {
			if got := f.Count("SELECT COUNT(*) FROM devices WHERE id = ? AND last_seen_at = ? AND hostname = ?",
				dv.id, store.Millis(f.Clock.Now()), fmt.Sprint("host-", i)); got != 1 {
				t.Errorf("device %d: check-in not recorded", i)
			}
		}
		if b := svc.CheckinBatches(); b == 0 || b >= int64(n*rounds) {
			t.Errorf("%d check-ins in %d transactions: not grouped", n*rounds, b)
		}
		t.Logf("%s: %d check-ins in %d transactions", d, n*rounds, svc.CheckinBatches())
	})
}

// poison makes every update of a device whose hostname is "poison" fail, on
// either database.
func poison(t *testing.T, f *fixture) {
	t.Helper()
	stmts := []string{`CREATE TRIGGER poison BEFORE UPDATE ON devices WHEN NEW.hostname = 'poison'
		BEGIN SELECT RAISE(ABORT, 'poisoned check-in'); END`}
	if f.D == store.Postgres {
		stmts = []string{
			`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.hostname = 'poison' THEN RAISE EXCEPTION 'poisoned check-in'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER poison BEFORE UPDATE ON devices FOR EACH ROW EXECUTE FUNCTION poison()`,
		}
	}
	for _, q := range stmts {
		if _, err := f.DB.Exec(f.Ctx, q); err != nil {
			t.Fatalf("poison: %v", err)
		}
	}
}

// TestGroupCommitIsolatesFailure has one check-in of a batch fail in the
// database: it alone gets an error, the others are answered and recorded.
func TestGroupCommitIsolatesFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, noChurnLimit)
		const n = 12
		devs := activateMany(t, f, n)
		poison(t, f)
		svc := batchService(t, f, n, 50*time.Millisecond)
		f.Clock.Advance(time.Minute)
		_, errs := concurrently(n, func(i int) (protocol.CheckinResponse, error) {
			host := "fine"
			if i == 3 {
				host = "poison"
			}
			dv := devs[i]
			return svc.Checkin(f.Ctx, dv.cred, protocol.CheckinRequest{Fingerprint: fp(dv.machine), Device: facts(host)})
		})
		for i, err := range errs {
			if i == 3 {
				if err == nil || !strings.Contains(err.Error(), "poisoned check-in") {
					t.Errorf("poisoned check-in: err = %v", err)
				}
				continue
			}
			if err != nil {
				t.Errorf("check-in %d failed with the poisoned one: %v", i, err)
			}
		}
		if got := f.Count("SELECT COUNT(*) FROM devices WHERE last_seen_at = ? AND hostname = 'fine'", store.Millis(f.Clock.Now())); got != n-1 {
			t.Errorf("%d check-ins recorded, want %d", got, n-1)
		}
	})
}

// TestGroupCommitCloseDrains closes the service while check-ins wait in its
// batcher: each is written and answered, and check-ins after Close still
// work (one by one).
func TestGroupCommitCloseDrains(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, noChurnLimit)
		const n = 20
		devs := activateMany(t, f, n)
		// A batch waits up to a minute for more: only Close ends the wait.
		svc, err := devices.New(f.DB, f.Accounts, f.Signing, devices.Config{Now: f.Clock.Now, CheckinBatch: 1000, CheckinWait: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		f.Clock.Advance(time.Minute)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, dv := range devs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = svc.Checkin(f.Ctx, dv.cred, protocol.CheckinRequest{Fingerprint: fp(dv.machine), Device: facts("drained")})
			}()
		}
		time.Sleep(200 * time.Millisecond) // let them queue
		if got := f.Count("SELECT COUNT(*) FROM devices WHERE hostname = 'drained'"); got != 0 {
			t.Fatalf("%d check-ins written before their batch closed", got)
		}
		start := time.Now()
		svc.Close()
		wg.Wait()
		if el := time.Since(start); el > 20*time.Second {
			t.Fatalf("Close took %v", el)
		}
		for i, err := range errs {
			if err != nil {
				t.Errorf("check-in %d: %v", i, err)
			}
		}
		if got := f.Count("SELECT COUNT(*) FROM devices WHERE hostname = 'drained' AND last_seen_at = ?", store.Millis(f.Clock.Now())); got != n {
			t.Errorf("%d of %d check-ins written", got, n)
		}
		dv := devs[0]
		if _, err := svc.Checkin(f.Ctx, dv.cred, protocol.CheckinRequest{Fingerprint: fp(dv.machine)}); err != nil {
			t.Errorf("check-in after Close: %v", err)
		}
	})
}
