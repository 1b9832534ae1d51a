package engine

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the engine's own Prometheus metrics; each persistent query's runtime metrics are on
// its App's registry, gathered with these by the /metrics handler.
type metrics struct {
	httpRequests *prometheus.CounterVec
	queryErrors  prometheus.Counter
	pullQueries  prometheus.Counter
	pushQueries  prometheus.Gauge
	pushRows     prometheus.Counter
}

func newMetrics(r *prometheus.Registry) *metrics {
	m := &metrics{
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "seiche", Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests by endpoint and status code."}, []string{"endpoint", "code"}),
		queryErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "seiche", Subsystem: "engine", Name: "query_failures_total",
			Help: "Persistent queries that stopped with an error."}),
		pullQueries: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "seiche", Subsystem: "engine", Name: "pull_queries_total",
			Help: "Pull queries answered."}),
		pushQueries: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "seiche", Subsystem: "engine", Name: "push_queries",
			Help: "Push queries running."}),
		pushRows: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "seiche", Subsystem: "engine", Name: "push_rows_total",
			Help: "Rows sent to push-query clients."}),
	}
	r.MustRegister(m.httpRequests, m.queryErrors, m.pullQueries, m.pushQueries, m.pushRows)
	return m
}

// sourceStatistics renders a source's runtime statistics for DESCRIBE EXTENDED.
func (m *metrics) sourceStatistics(name string, readers, writers []string) (string, string) {
	return "", ""
}
