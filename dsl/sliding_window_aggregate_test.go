package dsl_test

import (
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
