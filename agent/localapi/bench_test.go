package localapi

import (
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

// BenchmarkEntitlement measures GET /v1/entitlement over real loopback HTTP
// on one kept-alive connection, and reports the median latency.
func BenchmarkEntitlement(b *testing.B) { benchEntitlement(b, "") }

// BenchmarkEntitlementFrench is the same with Accept-Language: fr, whose
// answer is cached per language like the English one.
func BenchmarkEntitlementFrench(b *testing.B) { benchEntitlement(b, "fr-FR,fr;q=0.9,en;q=0.8") }

func benchEntitlement(b *testing.B, accept string) {
	eng := newScripted()
	exp := time.Now().Add(24 * time.Hour).UTC()
	eng.ent.Store(&agentapi.Entitlement{Entitled: true, State: agentapi.StateActive, Reason: "licensed", ReasonCode: agentapi.ReasonLicensedNoEnd, ReasonArgs: agentapi.ReasonArgs{"plan": "pro"}, Plan: "pro",
		Features: []string{"sign", "timestamp"}, MaxProfiles: 5, LicenseID: "lic_0123456789", LeaseExpiry: &exp,
		DeviceID: "dev_0123456789", Lease: string(make([]byte, 600)), CheckedAt: time.Now().UTC()})
	r := startB(b, Options{Engine: eng})
	tr := &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, Proxy: nil}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	url := r.url(agentapi.PathEntitlement)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		req, _ := http.NewRequest("GET", url, nil)
		if accept != "" {
			req.Header.Set("Accept-Language", accept)
		}
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(t0))
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "median-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}
