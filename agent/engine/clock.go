package engine

import "time"

// Trusted time (docs/threat-model.md, "Clock tampering").
//
// Every comparison of trusted time is made on wall-clock readings
// (t.Round(0)): Go compares two time.Now() values on the monotonic clock,
// which a person setting the clock does not move, while leases are stated in
// wall-clock Unix seconds. The monotonic reading is used for one thing only:
// to measure how much real time passed between two observations, so a clock
// set back (or slowed) while the agent runs is charged to the set-back budget.

// hasMonotonic reports whether t carries a monotonic clock reading.
func hasMonotonic(t time.Time) bool { return t != t.Round(0) }

// observeClockLocked records one reading of the clock and returns its wall
// value. The set-back since the previous observation (real elapsed time
// minus wall elapsed time while running; the wall step back across a
// restart) is added to st.ClockSetBack, which only a server-vouched time
// (activation, check-in) resets. The trusted-time mark is the highest wall
// reading seen.
func (e *Engine) observeClockLocked(raw time.Time) time.Time {
	wall := raw.Round(0)
	if e.loadErr != nil {
		return wall
	}
	var back time.Duration
	switch {
	case !e.obsWall.IsZero() && hasMonotonic(raw) && hasMonotonic(e.obsMono):
		back = raw.Sub(e.obsMono) - wall.Sub(e.obsWall)
	case !e.obsWall.IsZero():
		back = e.obsWall.Sub(wall)
	case !e.st.ClockSeen.IsZero():
		back = e.st.ClockSeen.Sub(wall) // first reading since the agent started
	}
	// A suspended computer (the monotonic clock stops, the wall clock runs)
	// or a clock set forward gives a negative value, which earns nothing
	// back. NTP slews both readings alike, so an honest clock adds only
	// drift (microseconds per observation, a minute a week at 100 ppm).
	if back > 0 {
		e.st.ClockSetBack += back
	}
	e.obsMono, e.obsWall = raw, wall
	e.st.ClockSeen = wall
	if wall.After(e.st.TrustedTime) {
		e.st.TrustedTime = wall
	}
	return wall
}

// rebaseClockLocked is called when the server vouched for the time (an
// activation or check-in answer with a fresh lease issued at iat): the
// set-back budget is full again and the mark is the later of now and iat.
func (e *Engine) rebaseClockLocked(raw time.Time, iat time.Time) {
	wall := raw.Round(0)
	e.st.TrustedTime = wall
	if iat.After(wall) {
		e.st.TrustedTime = iat
	}
	e.st.ClockSeen, e.st.ClockSetBack = wall, 0
	e.obsMono, e.obsWall = raw, wall
}
