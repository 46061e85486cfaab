package httpmw

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the server's Prometheus collectors on a registry of its own
// (not the global default one), so tests and several servers in one process
// never collide.
type Metrics struct {
	Registry     *prometheus.Registry
	requests     *prometheus.CounterVec
	durations    *prometheus.HistogramVec
	Activations  *prometheus.CounterVec // by method and result (ok or error code)
	Checkins     *prometheus.CounterVec // by result
	SeatDenials  prometheus.Counter
	DeviceGrants *prometheus.CounterVec // device authorization outcomes
}

// NewMetrics creates and registers the collectors, plus the Go runtime and
// process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "entitle_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "entitle_http_request_duration_seconds",
			Help:    "HTTP request durations by route and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		Activations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "entitle_activations_total", Help: "Activation attempts by method and result.",
		}, []string{"method", "result"}),
		Checkins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "entitle_checkins_total", Help: "Check-ins by result.",
		}, []string{"result"}),
		SeatDenials: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "entitle_seat_denials_total", Help: "Activations refused because no seat was free.",
		}),
		DeviceGrants: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "entitle_device_authorizations_total", Help: "Device authorization requests and their outcomes.",
		}, []string{"result"}),
	}
	m.Registry.MustRegister(m.requests, m.durations, m.Activations, m.Checkins, m.SeatDenials, m.DeviceGrants,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Middleware counts and times requests. Unmatched requests share one route
// label so scanners cannot grow the label set without bound.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := wrapStatus(w)
		start := time.Now()
		next.ServeHTTP(sw, r)
		route := FromContext(r.Context()).Route
		if route == "" {
			route = "unmatched"
		}
		method := r.Method
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions:
		default:
			method = "other"
		}
		m.requests.WithLabelValues(route, method, strconv.Itoa(sw.code())).Inc()
		m.durations.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
	})
}
