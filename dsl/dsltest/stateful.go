package dsltest

import (
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// DroppedRecords returns the number of records the topology's processors dropped on purpose so far
// (late records, nil keys: runtime.RecordDropped), summed over its tasks.
func DroppedRecords(d *Driver) float64 {
	d.t.Helper()
	mfs, err := d.d.Registry().Gather()
	if err != nil {
		d.t.Fatalf("dsltest: gather metrics: %v", err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == "seiche_stream_task_dropped_records_total" {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

// WindowStore returns a typed view of a window store (a windowed aggregation's, a join's); its
// values are what the operation stores (windowed aggregations store an 8-byte timestamp before
// the value). A missing store fails the test.
func WindowStore[K, V any](d *Driver, name string, keys serde.Serde[K], values serde.Serde[V]) state.Windowed[K, V] {
	d.t.Helper()
	s, err := d.d.StateStore(name)
	if err != nil {
		d.t.Fatalf("dsltest: %v", err)
	}
	ws, ok := s.(state.WindowStore)
	if !ok {
		d.t.Fatalf("dsltest: store %s is a %T, not a window store", name, s)
	}
	return state.NewWindowed(ws, keys, values)
}

// SessionStore returns a typed view of a session store; a missing store fails the test.
func SessionStore[K, V any](d *Driver, name string, keys serde.Serde[K], values serde.Serde[V]) state.Sessions[K, V] {
	d.t.Helper()
	s, err := d.d.StateStore(name)
	if err != nil {
		d.t.Fatalf("dsltest: %v", err)
	}
	ss, ok := s.(state.SessionStore)
	if !ok {
		d.t.Fatalf("dsltest: store %s is a %T, not a session store", name, s)
	}
	return state.NewSessions(ss, keys, values)
}
