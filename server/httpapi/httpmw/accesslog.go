package httpmw

import (
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// LogPolicy decides which requests the access log writes at info level. The
// zero value logs every request at info.
type LogPolicy struct {
	// Quiet lists ServeMux patterns of hot routes (such as the check-in)
	// whose successful, fast requests are logged at debug level only, so a
	// server at info level does not pay for a line per request there.
	// Errors (status >= 400) and slow requests are always logged at info.
	Quiet []string
	// SampleEvery, when above 0, also logs one in SampleEvery quiet requests
	// at info (with its "sampled" rate), so the log still shows the traffic.
	SampleEvery uint64
	// Slow is the duration from which a quiet request is always logged
	// (default 500 ms).
	Slow time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultSlowRequest is LogPolicy.Slow's default.
const DefaultSlowRequest = 500 * time.Millisecond

// AccessLog logs one line per request at info level. It logs the path but
// never the query, body or headers: they can carry user codes, passwords and
// credentials.
func AccessLog(logger *slog.Logger, next http.Handler) http.Handler {
	return AccessLogWith(logger, LogPolicy{}, next)
}

// AccessLogWith is AccessLog under a policy for hot routes.
func AccessLogWith(logger *slog.Logger, p LogPolicy, next http.Handler) http.Handler {
	if p.Slow <= 0 {
		p.Slow = DefaultSlowRequest
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	quiet := make(map[string]bool, len(p.Quiet))
	for _, r := range p.Quiet {
		quiet[r] = true
	}
	var seen atomic.Uint64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := wrapStatus(w)
		start := p.Now()
		next.ServeHTTP(sw, r)
		in := FromContext(r.Context())
		status := sw.code()
		d := p.Now().Sub(start)
		level := slog.LevelInfo
		var sampled uint64
		if quiet[in.Route] && status < 400 && d < p.Slow {
			level = slog.LevelDebug
			if p.SampleEvery > 0 && seen.Add(1)%p.SampleEvery == 0 {
				level, sampled = slog.LevelInfo, p.SampleEvery
			}
		}
		ctx := r.Context()
		if !logger.Enabled(ctx, level) {
			return
		}
		attrs := [...]slog.Attr{
			slog.String("request_id", in.ID),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", in.Route),
			slog.Int("status", status),
			slog.Int64("bytes", sw.Bytes),
			slog.Duration("duration", d),
			slog.String("client_ip", ClientIP(ctx)),
			slog.Uint64("sampled", sampled),
		}
		n := len(attrs)
		if sampled == 0 {
			n-- // the "sampled" attribute only on sampled lines
		}
		logger.LogAttrs(ctx, level, "http request", attrs[:n]...)
	})
}
