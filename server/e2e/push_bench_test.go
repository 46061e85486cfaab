package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/internal/pushload"
	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/server/servertest"
)

// rssKiB reads a process's resident memory.
func rssKiB(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// BenchmarkPushLatency: ENTITLE_BENCH_AGENTS (default 10,000) simulated
// online agents hold their push streams on one server instance; each
// iteration queues a command for one of them through the account API and
// waits until the agent's outcome is recorded. Reported: median and p99 of
// queued -> acknowledged, and the server's resident memory per connected
// agent. "postgres-2" holds the streams on instance B and queues through
// instance A of one PostgreSQL database. Targets (issue 11): p99 < 1 s,
// <= 30 KB per agent.
func BenchmarkPushLatency(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("ENTITLE_BENCH_AGENTS")); err == nil && v > 0 {
		n = v
	}
	bin := testenv.BuildBinary(b, "./server/cmd/entitle-server")
	cases := []struct {
		name      string
		dsn       func() string
		instances int
	}{
		{"sqlite", func() string { return "sqlite:" + filepath.Join(b.TempDir(), "push.db") }, 1},
		{"postgres-2", func() string { return testenv.PostgresDB(b) }, 2},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			dsn := tc.dsn()
			cli(b, bin, dsn, ownerPass+"\n", "account", "create", "--email", ownerEmail, "--password-stdin")
			var lic accountapi.LicenseJSON
			cliJSON(b, bin, dsn, "", &lic, "license", "create", "--owner", ownerEmail, "--plan", "bench", "--seats", "1000000", "--days", "30",
				"--management-mode", "local_remote")
			args := []string{"--db", dsn, "--log-level", "warn", "--limit-activations", "off", "--checkin-interval", "1h", "--offline-grace", "24h"}
			queueOn := servertest.Start(b, bin, args...)
			holdOn := queueOn
			if tc.instances == 2 {
				holdOn = servertest.Start(b, bin, args...)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			fleet := pushload.New(holdOn.Base)
			if err := fleet.Activate(ctx, lic.Key, n, 32); err != nil {
				b.Fatal(err)
			}
			before := rssKiB(b, holdOn.PID())
			if err := fleet.Connect(ctx, 256); err != nil {
				b.Fatal(err)
			}
			time.Sleep(time.Second) // let the server settle its buffers
			perAgent := float64(rssKiB(b, holdOn.PID())-before) / float64(n)

			admin := pushload.New(queueOn.Base)
			var sess accountapi.SessionResponse
			if err := admin.Post(ctx, accountapi.PathSessions, "", accountapi.SessionRequest{Email: ownerEmail, Password: ownerPass}, &sess); err != nil {
				b.Fatal(err)
			}
			var (
				mu  sync.Mutex
				lat []time.Duration
			)
			b.ResetTimer()
			var wg sync.WaitGroup
			sem := make(chan struct{}, 32)
			for i := 0; i < b.N; i++ {
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					a := fleet.Agents[i%n]
					start := time.Now()
					var rec accountapi.CommandJSON
					if err := admin.Post(ctx, "/v1/account/devices/"+a.ID+"/commands", sess.Token, accountapi.CommandRequest{Type: protocol.CmdRefreshLease}, &rec); err != nil {
						b.Error(err)
						return
					}
					wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
					defer wcancel()
					if err := fleet.WaitAcked(wctx, []string{rec.ID}); err != nil {
						b.Error(err)
						return
					}
					at, _ := fleet.Acked(rec.ID)
					mu.Lock()
					lat = append(lat, at.Sub(start))
					mu.Unlock()
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(pushload.Percentile(lat, 50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(pushload.Percentile(lat, 99).Microseconds())/1000, "p99-ms")
			b.ReportMetric(perAgent, "KiB/agent")
			b.ReportMetric(float64(n), "agents")
		})
	}
}
