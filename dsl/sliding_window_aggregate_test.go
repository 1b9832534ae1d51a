package dsl_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/serde"
)

// Sliding windows (KIP-450; developer guide "Sliding Time Windows"; KStreamSlidingWindowAggregate):
// windows [start, start+d] (inclusive) exist where a record ends one (its left window [t-d, t]) or
// starts one (its right window [t+1, t+1+d], once a later record falls in it). A record updates every
// window containing it, creates its left window from the records before it, the previous record's
// right window, and, out of order, its own right window from the records after it. Records before d
// share the window [0, d].
func TestSlidingWindowCount(t *testing.T) {
	b := dsl.NewBuilder()
	in := dsl.Source(b, "in", serde.String(), serde.String())
	dsl.WindowedCount(in.GroupByKey().SlidingWindowedBy(dsl.SlidingWindows{TimeDifference: 10 * time.Millisecond, Grace: 100 * time.Millisecond})).ToStream().To("out")

	d := dsltest.New(t, b)
	input := dsltest.Input(d, "in", serde.String(), serde.String())
	out := dsltest.Output(d, "out", dsl.TimeWindowedSerde(serde.String(), 10*time.Millisecond), serde.Int64())
	input.PipeAt("a", "x", at(10))
	input.PipeAt("a", "x", at(15))
	input.PipeAt("a", "x", at(12)) // out of order
	checkRecs(t, "in order and out of order", out,
		wrec{wk("a", 0, 10), 1, 10},
		wrec{wk("a", 11, 21), 1, 15}, // 10's right window, now holding 15
		wrec{wk("a", 5, 15), 2, 15},  // 15's left window: 10 and 15
		wrec{wk("a", 5, 15), 3, 15},  // 12 updates the windows containing it
		wrec{wk("a", 11, 21), 2, 15},
		wrec{wk("a", 2, 12), 2, 12},  // 12's left window: 10 and 12
		wrec{wk("a", 13, 23), 1, 15}, // 12's right window: 15
	)
	input.PipeAt("b", "x", at(3)) // early records share [0,10]
	input.PipeAt("b", "x", at(5))
	checkRecs(t, "early", out,
		wrec{wk("b", 0, 10), 1, 3},
		wrec{wk("b", 4, 14), 1, 5},
		wrec{wk("b", 0, 10), 2, 5},
	)
}

// WindowedReduce over sliding windows is the aggregate whose first value is the record's own
// (SlidingWindowedKStream.reduce): summing with it gives what summing from zero with
// SlidingAggregate gives, for records in and out of order, early ones included.
func TestSlidingWindowReduceIsAggregate(t *testing.T) {
	b := dsl.NewBuilder()
	in := dsl.Source(b, "in", serde.String(), serde.Int64())
	w := dsl.SlidingWindows{TimeDifference: 10 * time.Millisecond, Grace: 100 * time.Millisecond}
	sum := func(a, v int64) (int64, error) { return a + v, nil }
	dsl.WindowedReduce(in.GroupByKey().SlidingWindowedBy(w), sum, dsl.CacheBytes(0)).ToStream().To("reduced")
	dsl.SlidingAggregate(in.GroupByKey().SlidingWindowedBy(w), func() (int64, error) { return 0, nil },
		func(_ string, v, agg int64) (int64, error) { return sum(agg, v) }, serde.Int64(), dsl.CacheBytes(0)).
		ToStream().To("aggregated")

	d := dsltest.New(t, b)
	input := dsltest.Input(d, "in", serde.String(), serde.Int64())
	for i, ts := range []int64{10, 15, 12, 3, 5, 40, 31} {
		input.PipeAt("a", int64(i+1), at(ts))
	}
	keys := dsl.TimeWindowedSerde(serde.String(), 10*time.Millisecond)
	reduced := dsltest.Output(d, "reduced", keys, serde.Int64()).ReadKeyValues()
	aggregated := dsltest.Output(d, "aggregated", keys, serde.Int64()).ReadKeyValues()
	if len(reduced) == 0 || fmt.Sprint(reduced) != fmt.Sprint(aggregated) {
		t.Errorf("reduce and aggregate differ:\n reduce    %v\n aggregate %v", reduced, aggregated)
	}
}
