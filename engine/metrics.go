package engine

import (
	"fmt"
	"time"

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

// sourceStatistics renders, for DESCRIBE EXTENDED, what the queries reading a source have consumed of
// it and how many of its records failed, from their runtime metrics, in ksqlDB's wording.
func sourceStatistics(readers []*persistentQuery) (stats, errStats string) {
	var total, failed float64
	var rate float64
	for _, q := range readers {
		app := q.app()
		if app == nil {
			continue
		}
		mfs, err := app.Registry().Gather()
		if err != nil {
			continue
		}
		var processed float64
		for _, mf := range mfs {
			var sum float64
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			switch mf.GetName() {
			case "seiche_stream_task_records_processed_total":
				processed = sum
			case "seiche_stream_task_record_errors_total":
				failed += sum
			}
		}
		total += processed
		if secs := time.Since(q.startedAt()).Seconds(); secs > 0 {
			rate += processed / secs
		}
	}
	if len(readers) == 0 {
		return "", ""
	}
	return fmt.Sprintf("consumer-messages-per-sec: %.2f consumer-total-messages: %.0f", rate, total),
		fmt.Sprintf("consumer-failed-messages: %.0f", failed)
}
