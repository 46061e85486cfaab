// Package ratelimit is the server's rate limits by key (client IP, email,
// license id): token buckets in memory (Limiters, Memory), each process
// counting on its own, and counters in the database (Shared), which hold
// across the server instances behind a load balancer on one PostgreSQL
// database. Sources chooses between them for the limits that must hold
// across instances (sign-in failures, device sign-ins).
package ratelimit

// Limit is a token bucket: Burst events at once, refilled at PerMinute.
// The zero value means the default; Off disables the limit.
type Limit struct {
	PerMinute float64
	Burst     int
	Off       bool
}

// OrDefault fills in the default rate and burst of a zero Limit.
func (r Limit) OrDefault(perMinute float64, burst int) Limit {
	if r.Off {
		return r
	}
	if r.PerMinute <= 0 {
		r.PerMinute = perMinute
	}
	if r.Burst <= 0 {
		r.Burst = burst
	}
	return r
}
