// Package dsltest runs a dsl topology synchronously in a test, without a broker: Kafka Streams'
// TopologyTestDriver with typed input and output topics.
//
//	d := dsltest.New(t, b)
//	in := dsltest.Input(d, "orders", serde.String(), serde.JSON[Order]())
//	out := dsltest.Output(d, "big-orders", serde.String(), serde.JSON[Order]())
//	in.Pipe("o1", Order{Amount: 500})
//	got := out.ReadKeyValues()
//
// Each record piped in is processed completely (through repartition topics too) before Pipe
// returns. Time is deterministic: records carry the timestamps they are piped with, and the wall
// clock moves only with AdvanceWallClock. Stores are in memory and can be read with KeyValueStore
// and TimestampedKeyValueStore. See runtime.TestDriver for the semantics.
package dsltest

import (
	"testing"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// Driver drives one topology in a test. It is closed when the test ends.
type Driver struct {
	t testing.TB
	d *runtime.TestDriver
}

// New builds b and starts a driver for it; a build error fails the test. Options are the runtime's
// (ApplicationID, StartTime, OnProcessingError, ProcessingLogTopic, Logger...).
func New(t testing.TB, b *dsl.Builder, opts ...runtime.Opt) *Driver {
	t.Helper()
	topo, err := b.Build()
	if err != nil {
		t.Fatalf("dsltest: build topology: %v", err)
	}
	return NewTopology(t, topo, opts...)
}

// NewTopology starts a driver for a runtime topology built without the dsl.
func NewTopology(t testing.TB, topo *runtime.Topology, opts ...runtime.Opt) *Driver {
	t.Helper()
	d, err := runtime.NewTestDriver(topo, opts...)
	if err != nil {
		t.Fatalf("dsltest: start driver: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("dsltest: close driver: %v", err)
		}
	})
	return &Driver{t: t, d: d}
}

// Runtime returns the underlying runtime.TestDriver, for raw bytes in and out.
func (d *Driver) Runtime() *runtime.TestDriver { return d.d }

// AdvanceWallClock moves the wall clock and runs the wall-clock punctuations that became due; an
// error fails the test.
func (d *Driver) AdvanceWallClock(by time.Duration) {
	d.t.Helper()
	if err := d.d.AdvanceWallClock(by); err != nil {
		d.t.Fatalf("dsltest: advance wall clock: %v", err)
	}
}

// WallClock returns the driver's wall-clock time.
func (d *Driver) WallClock() time.Time { return d.d.WallClock() }

// Describe returns the topology's description.
func (d *Driver) Describe() runtime.TopologyDescription { return d.d.Describe() }

// InputTopic pipes typed records into one input topic.
type InputTopic[K, V any] struct {
	d      *Driver
	topic  string
	keys   serde.Serializer[K]
	values serde.Serializer[V]
}

// Input returns a typed input topic. Use the serdes the topology's source reads with.
func Input[K, V any](d *Driver, topic string, keys serde.Serializer[K], values serde.Serializer[V]) *InputTopic[K, V] {
	return &InputTopic[K, V]{d: d, topic: topic, keys: keys, values: values}
}

// Pipe pipes one record stamped with the driver's wall-clock time; an error fails the test.
func (in *InputTopic[K, V]) Pipe(key K, value V) {
	in.d.t.Helper()
	in.PipeAt(key, value, in.d.d.WallClock())
}

// PipeAt pipes one record with timestamp ts; an error fails the test.
func (in *InputTopic[K, V]) PipeAt(key K, value V, ts time.Time) {
	in.d.t.Helper()
	if err := in.PipeRecord(runtime.Record[K, V]{Key: key, Value: value, Timestamp: ts.UnixMilli()}); err != nil {
		in.d.t.Fatalf("dsltest: pipe into %s: %v", in.topic, err)
	}
}

// PipeRecord pipes one record with its timestamp and headers and returns the error processing
// gave, if any: a *runtime.TaskError when an error handler decided to fail.
func (in *InputTopic[K, V]) PipeRecord(rec runtime.Record[K, V]) error {
	kb, err := in.keys.Serialize(rec.Key)
	if err != nil {
		return err
	}
	var vb []byte
	if !rec.Null {
		if vb, err = in.values.Serialize(rec.Value); err != nil {
			return err
		}
	}
	return in.d.d.PipeInput(in.topic, kb, vb, rec.Timestamp, rec.Headers...)
}

// OutputTopic reads typed records written to one topic.
type OutputTopic[K, V any] struct {
	d      *Driver
	topic  string
	keys   serde.Deserializer[K]
	values serde.Deserializer[V]
}

// Output returns a typed output topic.
func Output[K, V any](d *Driver, topic string, keys serde.Deserializer[K], values serde.Deserializer[V]) *OutputTopic[K, V] {
	return &OutputTopic[K, V]{d: d, topic: topic, keys: keys, values: values}
}

// ReadRecord removes and returns the oldest unread record; ok is false if there is none. A record
// that does not deserialize fails the test.
func (o *OutputTopic[K, V]) ReadRecord() (rec runtime.Record[K, V], ok bool) {
	o.d.t.Helper()
	raw, ok := o.d.d.ReadOutput(o.topic)
	if !ok {
		return rec, false
	}
	k, err := o.keys.Deserialize(raw.Key)
	if err != nil {
		o.d.t.Fatalf("dsltest: %s offset %d: key: %v", o.topic, raw.Offset, err)
	}
	v, err := o.values.Deserialize(raw.Value)
	if err != nil {
		o.d.t.Fatalf("dsltest: %s offset %d: value: %v", o.topic, raw.Offset, err)
	}
	return runtime.Record[K, V]{Key: k, Value: v, Timestamp: raw.Timestamp, Headers: raw.Headers, Null: raw.Value == nil}, true
}

// ReadRecords removes and returns every unread record.
func (o *OutputTopic[K, V]) ReadRecords() []runtime.Record[K, V] {
	o.d.t.Helper()
	var out []runtime.Record[K, V]
	for {
		rec, ok := o.ReadRecord()
		if !ok {
			return out
		}
		out = append(out, rec)
	}
}

// ReadKeyValues removes and returns every unread record as a key and a value.
func (o *OutputTopic[K, V]) ReadKeyValues() []dsl.KeyValue[K, V] {
	o.d.t.Helper()
	var out []dsl.KeyValue[K, V]
	for _, r := range o.ReadRecords() {
		out = append(out, dsl.KeyValue[K, V]{Key: r.Key, Value: r.Value})
	}
	return out
}

// ReadValues removes and returns the values of every unread record.
func (o *OutputTopic[K, V]) ReadValues() []V {
	o.d.t.Helper()
	var out []V
	for _, r := range o.ReadRecords() {
		out = append(out, r.Value)
	}
	return out
}

// IsEmpty reports whether every record has been read.
func (o *OutputTopic[K, V]) IsEmpty() bool {
	for _, t := range o.d.d.OutputTopics() {
		if t == o.topic {
			return false
		}
	}
	return true
}

// KeyValueStore returns a typed view of a key-value store; a missing store fails the test.
func KeyValueStore[K, V any](d *Driver, name string, keys serde.Serde[K], values serde.Serde[V]) state.KV[K, V] {
	d.t.Helper()
	s, err := d.d.StateStore(name)
	if err != nil {
		d.t.Fatalf("dsltest: %v", err)
	}
	kv, ok := s.(state.KeyValueStore)
	if !ok {
		d.t.Fatalf("dsltest: store %s is a %T, not a key-value store", name, s)
	}
	return state.NewKV(kv, keys, values)
}

// TableStore returns a typed view of the store holding table t, with the table's own serdes, so
// that its key and value types cannot be mistaken. A table with no store of its own (a Filter or
// MapTableValues result: see Table.Materialize) or without serdes fails the test.
func TableStore[K, V any](d *Driver, t *dsl.Table[K, V]) state.TimestampedKV[K, V] {
	d.t.Helper()
	if t.StoreName() == "" || t.KeySerde() == nil || t.ValueSerde() == nil {
		d.t.Fatalf("dsltest: table %s has no store of its own with serdes: materialize it", t.Node())
	}
	return TimestampedKeyValueStore(d, t.StoreName(), t.KeySerde(), t.ValueSerde())
}

// TimestampedKeyValueStore returns a typed view of a timestamped key-value store, such as the
// store of a table; a missing store fails the test.
func TimestampedKeyValueStore[K, V any](d *Driver, name string, keys serde.Serde[K], values serde.Serde[V]) state.TimestampedKV[K, V] {
	d.t.Helper()
	s, err := d.d.StateStore(name)
	if err != nil {
		d.t.Fatalf("dsltest: %v", err)
	}
	kv, ok := s.(state.TimestampedKeyValueStore)
	if !ok {
		d.t.Fatalf("dsltest: store %s is a %T, not a timestamped key-value store", name, s)
	}
	return state.NewTimestampedKV(kv, keys, values)
}
