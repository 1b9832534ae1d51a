package dsl_test

import (
	"testing"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/serde"
)

// suppress(untilWindowCloses(unbounded())) (Kafka Streams developer guide, "Window Final Results";
// KIP-328): no intermediate updates, one final result per window when stream time reaches
// window end + grace, with the timestamp of the window's last update, in window-end order.
func TestSuppressUntilWindowCloses(t *testing.T) {
	b := dsl.NewBuilder()
	in := dsl.Source(b, "in", serde.String(), serde.String())
	counts := dsl.WindowedCount(in.GroupByKey().WindowedBy(dsl.TumblingWindows(10*time.Millisecond, 5*time.Millisecond)))
	dsl.SuppressUntilWindowCloses(counts).ToStream().To("final")

	d := dsltest.New(t, b)
	input := dsltest.Input(d, "in", serde.String(), serde.String())
	out := dsltest.Output(d, "final", dsl.TimeWindowedSerde(serde.String(), 10*time.Millisecond), serde.Int64())
	input.PipeAt("a", "x", at(1))
	input.PipeAt("a", "x", at(5))
	input.PipeAt("b", "x", at(7))
	input.PipeAt("a", "x", at(12))
	input.PipeAt("a", "x", at(14))
	if got := readRecs(out); len(got) != 0 {
		t.Fatalf("results before any window closed: %v", got)
	}
	input.PipeAt("a", "x", at(15)) // 10 + 5: [0,10) closes
	checkRecs(t, "after 15", out, wrec{wk("a", 0, 10), 2, 5}, wrec{wk("b", 0, 10), 1, 7})
	input.PipeAt("a", "x", at(16))
	input.PipeAt("c", "x", at(24))
	checkRecs(t, "after 24", out)
	input.PipeAt("c", "x", at(30)) // [10,20) closes at 25
	checkRecs(t, "after 30", out, wrec{wk("a", 10, 20), 4, 16})
}

// A window buffered before an eviction and not updated since still closes when stream time passes
// its end + grace, even when the record that advances stream time opens a later window.
func TestSuppressClosesWindowsLeftAfterEviction(t *testing.T) {
	b := dsl.NewBuilder()
	in := dsl.Source(b, "in", serde.String(), serde.String())
	counts := dsl.WindowedCount(in.GroupByKey().WindowedBy(dsl.TumblingWindows(10*time.Millisecond, 5*time.Millisecond)))
	dsl.SuppressUntilWindowCloses(counts).ToStream().To("final")

	d := dsltest.New(t, b)
	input := dsltest.Input(d, "in", serde.String(), serde.String())
	out := dsltest.Output(d, "final", dsl.TimeWindowedSerde(serde.String(), 10*time.Millisecond), serde.Int64())
	input.PipeAt("a", "x", at(1))
	input.PipeAt("b", "x", at(12))
	input.PipeAt("a", "x", at(15)) // [0,10) closes; [10,20) stays buffered for a and b
	checkRecs(t, "after 15", out, wrec{wk("a", 0, 10), 1, 1})
	input.PipeAt("c", "x", at(40)) // [10,20) closed at 25
	checkRecs(t, "after 40", out, wrec{wk("a", 10, 20), 1, 15}, wrec{wk("b", 10, 20), 1, 12})
}
