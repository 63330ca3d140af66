package hub

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the hub's Prometheus metrics, in a registry of its own (no
// global state: two hubs in one test process do not share counters).
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	inflight     prometheus.Gauge
	batches      *prometheus.CounterVec
	applied      prometheus.Counter
	duplicates   prometheus.Counter
	conflicts    *prometheus.CounterVec
	authFailures *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lango_hub_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lango_hub_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lango_hub_requests_in_flight", Help: "HTTP requests being served.",
		}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lango_hub_upload_batches_total", Help: "Uploaded event batches by result (ok, gap, fork, invalid, ...).",
		}, []string{"result"}),
		applied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lango_hub_events_applied_total", Help: "Events stored for the first time.",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lango_hub_events_duplicate_total", Help: "Events received again and skipped.",
		}),
		conflicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lango_hub_conflicts_total", Help: "Conflicts recorded at upload, by kind.",
		}, []string{"kind"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lango_hub_auth_failures_total", Help: "Refused request signatures by reason.",
		}, []string{"reason"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.inflight, m.batches, m.applied, m.duplicates, m.conflicts, m.authFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
