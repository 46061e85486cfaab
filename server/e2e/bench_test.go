package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/testenv"
)

// benchServers starts the real binary on a fresh database of each kind with a
// license of many seats, logging only warnings (a production server at info
// level would also pay for one access-log line per request).
func benchServers(b *testing.B, fn func(b *testing.B, s *server, key string)) {
	bin := testenv.BuildBinary(b, "./server/cmd/entitle-server")
	dbs := []struct {
		name string
		dsn  func() string
	}{
		{"sqlite", func() string { return "sqlite:" + filepath.Join(b.TempDir(), "bench.db") }},
		{"postgres", func() string { return testenv.PostgresDB(b) }},
	}
	for _, db := range dbs {
		b.Run(db.name, func(b *testing.B) {
			dsn := db.dsn()
			cli(b, bin, dsn, ownerPass+"\n", "account", "create", "--email", ownerEmail, "--password-stdin")
			var lic accountapi.LicenseJSON
			cliJSON(b, bin, dsn, "", &lic, "license", "create", "--owner", ownerEmail, "--plan", "bench", "--seats", "1000000", "--days", "30")
			s := startServer(b, bin, "--db", dsn, "--log-level", "warn", "--limit-activations", "off")
			fn(b, s, lic.Key)
		})
	}
}

func benchClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
}

// post sends one JSON request and drains the answer so the connection is
// reused; it returns the status.
func post(c *http.Client, url, bearer string, body []byte) (int, error) {
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// BenchmarkHTTPCheckin measures check-ins per second over loopback HTTP:
// each iteration is one POST /v1/checkin from one of 64 activated devices.
func BenchmarkHTTPCheckin(b *testing.B) {
	benchServers(b, func(b *testing.B, s *server, key string) {
		const devices = 64
		c := benchClient()
		type dev struct {
			cred string
			body []byte
		}
		devs := make([]dev, devices)
		for i := range devs {
			var act protocol.ActivateResponse
			if st := s.Call(b, c, "POST", protocol.PathActivations, "", activation(key, fmt.Sprintf("bench-%d", i)), &act); st != http.StatusCreated {
				b.Fatalf("activate: %d", st)
			}
			body, _ := json.Marshal(protocol.CheckinRequest{Fingerprint: fingerprint(fmt.Sprintf("bench-%d", i)),
				Device: protocol.DeviceFacts{Hostname: fmt.Sprintf("bench-%d", i), OS: "linux"}})
			devs[i] = dev{cred: act.Credential, body: body}
		}
		url := s.Base + protocol.PathCheckin
		var next atomic.Int64
		b.SetParallelism(16) // many clients in flight, as in production
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				d := devs[next.Add(1)%devices]
				if st, err := post(c, url, d.cred, d.body); err != nil || st != http.StatusOK {
					b.Errorf("checkin: %d %v", st, err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "checkins/s")
	})
}

// BenchmarkHTTPActivate measures new activations per second: each iteration
// activates a new computer on a license with a million seats.
func BenchmarkHTTPActivate(b *testing.B) {
	benchServers(b, func(b *testing.B, s *server, key string) {
		c := benchClient()
		url := s.Base + protocol.PathActivations
		var next atomic.Int64
		b.SetParallelism(16)
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				body, _ := json.Marshal(activation(key, fmt.Sprintf("act-%d", next.Add(1))))
				if st, err := post(c, url, "", body); err != nil || st != http.StatusCreated {
					b.Errorf("activate: %d %v", st, err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "activations/s")
	})
}
