package dsl_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// pipeInputsTopology has what depends on when a test driver flushes and commits: a count through
// a repartition topic behind a record cache, a windowed count with its suppression, both forwarding
// every update they flush, and the stores a test reads.
func pipeInputsTopology() *dsl.Builder {
	b := dsl.NewBuilder()
	in := dsl.Source(b, "in", serde.String(), serde.String())
	in.GroupBy(func(_, v string) (string, error) { return v, nil }, dsl.Named("by-value")).
		Count(dsl.Materialized("by-value-counts"), dsl.CacheBytes(1<<20)).ToStream().To("counts")
	windowed := dsl.WindowedCount(in.GroupByKey().WindowedBy(dsl.TumblingWindows(10*time.Millisecond, 5*time.Millisecond)),
		dsl.Materialized("window-counts"))
	dsl.SuppressUntilWindowCloses(windowed).ToStream().To("final")
	windowed.ToStream().To("updates")
	return b
}

// driverState is everything a test can observe of a driver: its outputs, read out, and the
// contents of its stores.
func driverState(t *testing.T, d *runtime.TestDriver) string {
	t.Helper()
	var out bytes.Buffer
	topics := d.OutputTopics()
	slices.Sort(topics)
	for _, topic := range topics {
		for {
			r, ok := d.ReadOutput(topic)
			if !ok {
				break
			}
			fmt.Fprintf(&out, "%s@%d %x=%x ts=%d\n", topic, r.Offset, r.Key, r.Value, r.Timestamp)
		}
	}
	for _, name := range []string{"by-value-counts", "window-counts"} {
		s, err := d.StateStore(name)
		if err != nil {
			t.Fatal(err)
		}
		switch s := s.(type) {
		case state.TimestampedKeyValueStore:
			it, err := s.All()
			if err != nil {
				t.Fatal(err)
			}
			for it.Next() {
				fmt.Fprintf(&out, "%s %x=%x ts=%d\n", name, it.Key(), it.Value(), it.Timestamp())
			}
			if err := errors.Join(it.Err(), it.Close()); err != nil {
				t.Fatal(err)
			}
		case state.WindowStore:
			it, err := s.All()
			if err != nil {
				t.Fatal(err)
			}
			for it.Next() {
				fmt.Fprintf(&out, "%s %x@%d=%x\n", name, it.Key(), it.Window().Start, it.Value())
			}
			if err := errors.Join(it.Err(), it.Close()); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("store %s is a %T", name, s)
		}
	}
	return out.String()
}

// PipeInputs commits once per batch, not once per record, and nothing a test can observe changes:
// after every batch, the outputs (through a record cache, a repartition topic and a suppression)
// and the stores are those of the same records piped one at a time.
func TestPipeInputsMatchesPipeInput(t *testing.T) {
	var recs []runtime.RawRecord
	for i := range 200 {
		// Keys and values that repeat, timestamps mostly rising (windows close) with some late.
		ts := int64(100 + i*3)
		if i%7 == 0 {
			ts -= 20
		}
		recs = append(recs, runtime.RawRecord{Topic: "in", Key: []byte("k" + strconv.Itoa(i%5)), Value: []byte("v" + strconv.Itoa(i%3)), Timestamp: ts})
	}
	one := dsltest.New(t, pipeInputsTopology(), runtime.ApplicationID("app")).Runtime()
	batched := dsltest.New(t, pipeInputsTopology(), runtime.ApplicationID("app")).Runtime()
	ctx := context.Background()
	seen := map[string]bool{}
	for _, n := range []int{1, 2, 17, 50, 130} { // batch sizes, cycled
		if len(recs) == 0 {
			break
		}
		batch := recs[:min(n, len(recs))]
		recs = recs[len(batch):]
		for _, r := range batch {
			if err := one.PipeInput(r.Topic, r.Key, r.Value, r.Timestamp); err != nil {
				t.Fatal(err)
			}
		}
		if err := batched.PipeInputs(ctx, batch); err != nil {
			t.Fatal(err)
		}
		want, got := driverState(t, one), driverState(t, batched)
		if got != want {
			t.Fatalf("after a batch of %d: PipeInputs gave\n%s\none PipeInput per record gave\n%s", len(batch), got, want)
		}
		if want == "" {
			t.Fatalf("after a batch of %d: nothing to compare", len(batch))
		}
		for _, topic := range []string{"counts", "final", "updates"} {
			if strings.Contains(want, topic+"@") {
				seen[topic] = true
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("outputs compared on %v only", seen)
	}
}

// PipeInputs stops at the first record that fails, as PipeInput would fail it, and processes none
// after it; what it processed before stays, and the driver goes on.
func TestPipeInputsStopsAtFailure(t *testing.T) {
	b := dsl.NewBuilder()
	dsl.Source(b, "in", serde.String(), serde.Int64()).To("out")
	d := dsltest.New(t, b, runtime.OnDeserializationError(runtime.LogAndFail)).Runtime()
	one := func(v int64) []byte { b, _ := serde.Int64().Serialize(v); return b }
	err := d.PipeInputs(context.Background(), []runtime.RawRecord{
		{Topic: "in", Key: []byte("a"), Value: one(1)},
		{Topic: "in", Key: []byte("b"), Value: []byte{1, 2}}, // not an int64
		{Topic: "in", Key: []byte("c"), Value: one(3)},
	})
	var te *runtime.TaskError
	if !errors.As(err, &te) {
		t.Fatalf("PipeInputs = %v, want a *runtime.TaskError", err)
	}
	var keys []string
	for {
		r, ok := d.ReadOutput("out")
		if !ok {
			break
		}
		keys = append(keys, string(r.Key))
	}
	if !slices.Equal(keys, []string{"a"}) {
		t.Errorf("outputs %q, want only the record before the one that failed", keys)
	}
	if err := d.PipeInputs(context.Background(), []runtime.RawRecord{{Topic: "in", Key: []byte("d"), Value: one(4)}}); err != nil {
		t.Fatalf("after a failure: %v", err)
	}
	if r, ok := d.ReadOutput("out"); !ok || string(r.Key) != "d" {
		t.Errorf("after a failure: output %+v, %v", r, ok)
	}
}
