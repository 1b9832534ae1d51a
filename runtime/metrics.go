package runtime

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are an application instance's Prometheus metrics, registered on its own registry (see
// App.Registry) so that several applications, and tests, can run in one process. Every series has
// the application_id label; task series have task_id.
type metrics struct {
	processed     *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	droppedRecs   *prometheus.CounterVec
	processLat    *prometheus.HistogramVec
	commitLat     *prometheus.HistogramVec
	lag           *prometheus.GaugeVec
	rebalances    prometheus.Counter
	assignedTasks prometheus.Gauge
	// restored counts the changelog records active tasks' restores applied; standbyRecords those
	// standby tasks applied, and standbyTasks the standby tasks open.
	restored       prometheus.Counter
	standbyRecords prometheus.Counter
	standbyTasks   prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, appID string) (*metrics, error) {
	reg = prometheus.WrapRegistererWith(prometheus.Labels{"application_id": appID}, reg)
	m := &metrics{
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seiche_stream_task_records_processed_total",
			Help: "Records a task has processed (consumed and run through its sub-topology).",
		}, []string{"task_id"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seiche_stream_task_record_errors_total",
			Help: "Record errors (deserialization and processing) a task has written to the processing log.",
		}, []string{"task_id"}),
		droppedRecs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seiche_stream_task_dropped_records_total",
			Help: "Records a task's processors dropped on purpose: late records past a window's grace period, nil keys or values an aggregation or join cannot use (Kafka Streams' dropped-records-total).",
		}, []string{"task_id"}),
		processLat: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seiche_stream_task_process_latency_seconds",
			Help:    "Time to process one record, averaged over each fetched batch of a partition.",
			Buckets: prometheus.ExponentialBuckets(1e-7, 4, 12),
		}, []string{"task_id"}),
		commitLat: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seiche_stream_task_commit_latency_seconds",
			Help:    "Time to commit a task: flush its state and output, commit its offsets.",
			Buckets: prometheus.ExponentialBuckets(1e-4, 4, 10),
		}, []string{"task_id"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "seiche_stream_task_consumer_lag_records",
			Help: "High watermark minus the next offset to process, per input partition, as of the last fetch.",
		}, []string{"task_id", "topic", "partition"}),
		rebalances: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seiche_stream_rebalances_total",
			Help: "Partition assignments received by the instance's stream threads.",
		}),
		assignedTasks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "seiche_stream_assigned_tasks",
			Help: "Tasks running on this instance.",
		}),
		restored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seiche_stream_restore_records_total",
			Help: "Changelog records applied restoring the stores of tasks starting on this instance (from each store's checkpoint to its changelog's end).",
		}),
		standbyRecords: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seiche_stream_standby_records_total",
			Help: "Changelog records applied to the standby tasks of this instance.",
		}),
		standbyTasks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "seiche_stream_standby_tasks",
			Help: "Standby tasks open on this instance.",
		}),
	}
	for _, c := range []prometheus.Collector{m.processed, m.dropped, m.droppedRecs, m.processLat, m.commitLat, m.lag, m.rebalances, m.assignedTasks,
		m.restored, m.standbyRecords, m.standbyTasks} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// taskMetrics are one task's series, looked up once when the task is created.
type taskMetrics struct {
	m          *metrics
	id         string
	processed  prometheus.Counter
	dropped    prometheus.Counter
	processLat prometheus.Observer
	// droppedRecords counts records dropped on purpose (RecordDropped).
	droppedRecords prometheus.Counter
	commitLat      prometheus.Observer
	lags           map[TopicPartition]prometheus.Gauge
}

func (m *metrics) forTask(id TaskID) *taskMetrics {
	s := id.String()
	return &taskMetrics{
		m:              m,
		id:             s,
		processed:      m.processed.WithLabelValues(s),
		dropped:        m.dropped.WithLabelValues(s),
		droppedRecords: m.droppedRecs.WithLabelValues(s),
		processLat:     m.processLat.WithLabelValues(s),
		commitLat:      m.commitLat.WithLabelValues(s),
		lags:           map[TopicPartition]prometheus.Gauge{},
	}
}

func (tm *taskMetrics) setLag(tp TopicPartition, lag int64) {
	g, ok := tm.lags[tp]
	if !ok {
		g = tm.m.lag.WithLabelValues(tm.id, tp.Topic, strconv.Itoa(int(tp.Partition)))
		tm.lags[tp] = g
	}
	g.Set(float64(lag))
}

// unregister drops the task's series when the task leaves the instance.
func (tm *taskMetrics) unregister() {
	tm.m.processed.DeleteLabelValues(tm.id)
	tm.m.dropped.DeleteLabelValues(tm.id)
	tm.m.droppedRecs.DeleteLabelValues(tm.id)
	tm.m.processLat.DeleteLabelValues(tm.id)
	tm.m.commitLat.DeleteLabelValues(tm.id)
	for tp := range tm.lags {
		tm.m.lag.DeleteLabelValues(tm.id, tp.Topic, strconv.Itoa(int(tp.Partition)))
	}
}
