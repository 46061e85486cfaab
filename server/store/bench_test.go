package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/httpapi"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/internal/ratelimit"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// benchDevice is one activated device of a bench server.
type benchDevice struct {
	cred, credHash string
	req            protocol.CheckinRequest
	body           []byte
}

// benchService is the real licensing service over a fresh SQLite database
// with n activated devices on one license.
func benchService(b *testing.B, n int) (*store.DB, *app.App, []benchDevice) {
	b.Helper()
	ctx := context.Background()
	db := storetest.Open(b, store.SQLite)
	svc, err := app.New(db, app.Config{Issuer: "bench", Now: time.Now,
		ActivationsPerLicense: ratelimit.Limit{Off: true}, PasswordHash: accounts.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Accounts.CreateAccount(ctx, "owner@example.com", "correct horse battery"); err != nil {
		b.Fatal(err)
	}
	lic, err := svc.Licenses.CreateLicense(ctx, licenses.LicenseSpec{OwnerEmail: "owner@example.com", Seats: n,
		TermStart: time.Now().Add(-time.Hour), Plan: licenses.Plan{Name: "pro", Features: []string{"sign"}, MaxProfiles: 5}})
	if err != nil {
		b.Fatal(err)
	}
	devs := make([]benchDevice, n)
	for i := range devs {
		name := fmt.Sprintf("bench-%d", i)
		act, err := svc.Devices.Activate(ctx, protocol.ActivateRequest{Method: protocol.MethodLicenseKey, LicenseKey: lic.Key,
			Fingerprint: apitest.Fingerprint(name), Product: "entitle",
			Device: protocol.DeviceFacts{Hostname: name, OS: "linux", Arch: "amd64", AgentVersion: "bench"}}, "192.0.2.1")
		if err != nil {
			b.Fatal(err)
		}
		sum := sha256.Sum256([]byte(act.Credential))
		req := protocol.CheckinRequest{Fingerprint: apitest.Fingerprint(name), Device: protocol.DeviceFacts{Hostname: name, OS: "linux"},
			Profiles: &protocol.ProfileSummary{Total: 1, Valid: 1}}
		body, _ := json.Marshal(req)
		devs[i] = benchDevice{cred: act.Credential, credHash: hex.EncodeToString(sum[:]), req: req, body: body}
	}
	b.Cleanup(svc.Devices.Close)
	return db, svc, devs
}

// BenchmarkCheckinWAL is the long check-in run: check-ins through the
// licensing service in process (no HTTP) from 1,000 devices, reporting the
// rate and the largest -wal file seen. Run it with a count, e.g.
// -benchtime 100000x.
func BenchmarkCheckinWAL(b *testing.B) {
	db, svc, devs := benchService(b, 1000)
	var next, maxWAL atomic.Int64
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			n := next.Add(1)
			d := devs[n%int64(len(devs))]
			if _, err := svc.Devices.Checkin(ctx, d.cred, d.req); err != nil {
				b.Error(err)
				return
			}
			if n%500 == 0 {
				if s := walSize(b, db); s > maxWAL.Load() {
					maxWAL.Store(s)
				}
			}
		}
	})
	b.StopTimer()
	end := walSize(b, db)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checkins/s")
	b.ReportMetric(float64(max(maxWAL.Load(), end))/(1<<20), "wal-MiB-max")
	b.ReportMetric(float64(end)/(1<<20), "wal-MiB-end")
}

// BenchmarkLoopbackCheckin compares, over real loopback HTTP with the same
// client load (16 requests in flight per core, 1,000 devices), the complete
// server's POST /v1/checkin with the bare single-statement floor: a plain
// net/http handler that reads the request and runs one UPDATE ... RETURNING
// on the same SQLite file. Both servers run in the benchmark's process.
func BenchmarkLoopbackCheckin(b *testing.B) {
	db, svc, devs := benchService(b, 1000)
	floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req protocol.CheckinRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		cred := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		deviceID, _, _ := strings.Cut(cred, ".")
		sum := sha256.Sum256([]byte(cred))
		var id, product, licenseID string
		if err := db.WritePoint(r.Context(), "UPDATE devices SET last_seen_at = ?, hostname = ? WHERE id = ? AND credential_hash = ? AND fingerprint = ? AND deactivated_at IS NULL RETURNING id, product, license_id",
			[]any{&id, &product, &licenseID}, time.Now().UnixMilli(), req.Device.Hostname, deviceID, hex.EncodeToString(sum[:]), req.Fingerprint); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "product": product, "license": licenseID})
	})
	api, err := httpapi.New(httpapi.DomainsOf(svc), httpapi.Config{PublicURL: "http://127.0.0.1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	// The same server logging at info, as JSON to a file (the production
	// default level): what the access log costs the check-in.
	logFile, err := os.Create(filepath.Join(b.TempDir(), "server.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer logFile.Close()
	apiInfo, err := httpapi.New(httpapi.DomainsOf(svc), httpapi.Config{PublicURL: "http://127.0.0.1", Logger: slog.New(slog.NewJSONHandler(logFile, nil))})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"floor", floor}, {"checkin", api.Handler()}, {"checkin-log-info", apiInfo.Handler()}} {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(bc.h)
			defer srv.Close()
			c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
			defer c.CloseIdleConnections()
			url := srv.URL + protocol.PathCheckin
			var next atomic.Int64
			b.SetParallelism(16)
			cpu0 := processCPU(b)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					d := devs[next.Add(1)%int64(len(devs))]
					req, _ := http.NewRequest("POST", url, bytes.NewReader(d.body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+d.cred)
					resp, err := c.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checkins/s")
			// The process's CPU time per check-in, the client's included
			// (the same for every server): steadier than the rate on a
			// machine other work shares.
			b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
			if bc.name == "checkin-log-info" {
				if fi, err := logFile.Stat(); err == nil {
					b.ReportMetric(float64(fi.Size())/float64(b.N), "log-bytes/op")
				}
			}
		})
	}
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
