package runtime

import "github.com/prometheus/client_golang/prometheus"

// RecordDropped counts one record that a processor dropped on purpose, as Kafka Streams' task
// metric dropped-records-total does: a record for a window that closed (past its grace period), a
// record with a nil key or value that an aggregation or join cannot use. The count is the
// application's seiche_stream_task_dropped_records_total metric (a test driver's DroppedRecords).
// It is not an error and nothing goes to the processing log.
func RecordDropped(ctx Context) {
	if o, ok := ctx.(taskOwner); ok {
		o.owningTask().recordDropped()
	}
}

type taskOwner interface{ owningTask() *task }

func (n *processorNode[KIn, VIn, KOut, VOut]) owningTask() *task { return n.t }

func (t *task) recordDropped() {
	if t.tm != nil {
		t.tm.droppedRecords.Inc()
	}
}

// Registry returns the Prometheus registry holding the driven tasks' metrics, the same series an
// App has (seiche_stream_task_dropped_records_total, ...).
func (d *TestDriver) Registry() *prometheus.Registry { return d.reg }
