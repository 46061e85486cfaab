// Package ratelimit is the server's in-memory token buckets by key (client
// IP, email, license id). Each process counts on its own: behind a load
// balancer with several server instances the effective limit is multiplied
// by the number of instances.
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
