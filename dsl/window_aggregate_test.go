package dsl_test

import (
	"testing"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/serde"
)

type wrec = rec[dsl.Windowed[string], int64]

func wk(k string, start, end int64) dsl.Windowed[string] {
	return dsl.Windowed[string]{Key: k, Window: dsl.Window{Start: start, End: end}}
}

// Tumbling windows (TimeWindows.ofSizeAndGrace; KIP-633 for the grace period): windows are
// [start, start+size) aligned to the epoch; a record updates its window while
// windowEnd > streamTime - grace, and is dropped (dropped-records) after. Each update is emitted
// with the window's largest record timestamp (KStreamWindowAggregate).
func TestTumblingWindowCountGrace(t *testing.T) {
	b := dsl.NewBuilder()
	in := dsl.Source(b, "in", serde.String(), serde.String())
	dsl.WindowedCount(in.GroupByKey().WindowedBy(dsl.TumblingWindows(10*time.Millisecond, 5*time.Millisecond)), dsl.Materialized("win-counts")).ToStream().To("out")

	d := dsltest.New(t, b)
	input := dsltest.Input(d, "in", serde.String(), serde.String())
	out := dsltest.Output(d, "out", dsl.TimeWindowedSerde(serde.String(), 10*time.Millisecond), serde.Int64())
	input.PipeAt("a", "x", at(1))
	input.PipeAt("a", "x", at(9))  // last millisecond of [0,10)
	input.PipeAt("a", "x", at(10)) // first of [10,20)
	input.PipeAt("b", "x", at(14)) // stream time 14: [0,10) closes at 10+5=15
	input.PipeAt("a", "x", at(3))  // late but within grace: accepted, timestamp stays 9
	input.PipeAt("a", "x", at(15)) // stream time 15: [0,10) is now closed
	input.PipeAt("a", "x", at(2))  // past grace: dropped
	input.PipeAt("a", "x", at(10)) // [10,20) still open
	checkRecs(t, "tumbling", out,
		wrec{wk("a", 0, 10), 1, 1},
		wrec{wk("a", 0, 10), 2, 9},
		wrec{wk("a", 10, 20), 1, 10},
		wrec{wk("b", 10, 20), 1, 14},
		wrec{wk("a", 0, 10), 3, 9},
		wrec{wk("a", 10, 20), 2, 15},
		wrec{wk("a", 10, 20), 3, 15},
	)
	if got := dsltest.DroppedRecords(d); got != 1 {
		t.Errorf("dropped records = %v, want 1", got)
	}
}

// Hopping windows (TimeWindows.advanceBy): a record at t belongs to every window
// [k*advance, k*advance+size) containing t, so with size 10 and advance 5 to two windows, updated
// in ascending start order. Windows start at 0 or later (no negative windows, TimeWindows.windowsFor).
func TestHoppingWindowCount(t *testing.T) {
	b := dsl.NewBuilder()
	in := dsl.Source(b, "in", serde.String(), serde.String())
	dsl.WindowedCount(in.GroupByKey().WindowedBy(dsl.HoppingWindows(10*time.Millisecond, 5*time.Millisecond, 0))).ToStream().To("out")

	d := dsltest.New(t, b)
	input := dsltest.Input(d, "in", serde.String(), serde.String())
	out := dsltest.Output(d, "out", dsl.TimeWindowedSerde(serde.String(), 10*time.Millisecond), serde.Int64())
	input.PipeAt("a", "x", at(3))
	input.PipeAt("a", "x", at(7))
	input.PipeAt("a", "x", at(12))
	checkRecs(t, "hopping", out,
		wrec{wk("a", 0, 10), 1, 3},
		wrec{wk("a", 0, 10), 2, 7},
		wrec{wk("a", 5, 15), 1, 7},
		wrec{wk("a", 5, 15), 2, 12},
		wrec{wk("a", 10, 20), 1, 12},
	)
}

// Window stores expire windows by retention (Materialized.withRetention): once stream time passes
// a window's start by the retention, the window is gone from the store.
func TestWindowStoreRetention(t *testing.T) {
	b := dsl.NewBuilder()
	in := dsl.Source(b, "in", serde.String(), serde.String())
	dsl.WindowedCount(in.GroupByKey().WindowedBy(dsl.TumblingWindows(10*time.Millisecond, 0)), dsl.Materialized("counts"), dsl.Retention(30*time.Millisecond), dsl.CacheBytes(0)).ToStream().To("out")
	d := dsltest.New(t, b)
	input := dsltest.Input(d, "in", serde.String(), serde.String())
	input.PipeAt("a", "x", at(5))
	input.PipeAt("a", "x", at(25))
	store := dsltest.WindowStore(d, "counts", serde.String(), serde.Bytes())
	if _, ok, _ := store.Get("a", 0); !ok {
		t.Fatalf("window [0,10) gone before its retention")
	}
	input.PipeAt("a", "x", at(35)) // stream time 35 >= 0 + 30: [0,10) expires
	if _, ok, _ := store.Get("a", 0); ok {
		t.Errorf("window [0,10) still in the store past its retention")
	}
	if _, ok, _ := store.Get("a", 20); !ok {
		t.Errorf("window [20,30) missing")
	}
	if got := len(dsltest.Output(d, "out", dsl.TimeWindowedSerde(serde.String(), 10*time.Millisecond), serde.Int64()).ReadRecords()); got != 3 {
		t.Errorf("%d updates, want 3 (cache size 0 forwards each)", got)
	}
}
